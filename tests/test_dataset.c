/* test_dataset.c — the dataset labels file: build -> save -> load round trip, key events
 * -> labels, path resolution, and every rule the loader enforces (each broken file must
 * fail with a message naming the video and field). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lac/dataset.h"
#include "testutil.h"

static char tmpdir[256];

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return;
  }
  fputs(text, f);
  fclose(f);
}

static void test_events(void) {
  lac_error err;
  const int64_t ev[3] = {2, 5, 6};
  int32_t lab[8];
  CHECK_OK(lac_dataset_events_to_labels(ev, 3, 8, lab, &err), &err);
  /* worked by hand: an event frame is the first frame of the next phase */
  const int32_t want[8] = {0, 0, 1, 1, 1, 2, 3, 3};
  CHECK(!memcmp(lab, want, sizeof want), "events {2,5,6} over 8 frames");
  const int64_t unsorted[2] = {4, 4};
  CHECK(lac_dataset_events_to_labels(unsorted, 2, 8, lab, &err) == LAC_ERR_INVALID_ARG &&
            strstr(err.message, "strictly increasing"),
        "repeated event: %s", err.message);
  const int64_t outside[1] = {8};
  CHECK(lac_dataset_events_to_labels(outside, 1, 8, lab, &err) == LAC_ERR_INVALID_ARG &&
            strstr(err.message, "outside"),
        "event past the end: %s", err.message);
  CHECK_OK(lac_dataset_events_to_labels(NULL, 0, 3, lab, &err), &err);
  CHECK(lab[0] == 0 && lab[2] == 0, "no events: one phase");
}

static void test_roundtrip(void) {
  lac_error err;
  lac_dataset *ds = NULL;
  CHECK_OK(lac_dataset_new(tmpdir, "unit", &ds, &err), &err);
  if (!ds) return;
  const char *pour[] = {"approach", "tilt", "pour", "return", "rest"};
  const char *jj[] = {"down", "up"};
  int a0 = -1, a1 = -1, again = -1;
  CHECK_OK(lac_dataset_add_action(ds, "pour", 5, pour, &a0, &err), &err);
  CHECK_OK(lac_dataset_add_action(ds, "jumping-jacks", 2, jj, &a1, &err), &err);
  CHECK_OK(lac_dataset_add_action(ds, "pour", 5, pour, &again, &err), &err);
  CHECK(a0 == 0 && a1 == 1 && again == 0 && ds->n_actions == 2, "action indices");
  CHECK(lac_dataset_add_action(ds, "pour", 2, jj, NULL, &err) == LAC_ERR_INVALID_ARG,
        "redefining an action with other phases");
  const int32_t l0[6] = {-1, 0, 1, 2, 3, 4};
  const int32_t l1[4] = {0, 1, 0, 1};
  CHECK_OK(lac_dataset_add_video(ds, "v0", "videos/v0.webm", "train", a0, 25, 6, l0, &err), &err);
  CHECK_OK(lac_dataset_add_video(ds, "v1", "/abs/v1.webm", "val", a1, 0, 4, l1, &err), &err);
  CHECK(lac_dataset_add_video(ds, "v0", "x.webm", "val", a0, 25, 6, l0, &err) == LAC_ERR_FORMAT &&
            strstr(err.message, "twice"),
        "duplicate id: %s", err.message);
  const int32_t bad[2] = {0, 5};
  CHECK(lac_dataset_add_video(ds, "v2", "x.webm", "val", a0, 25, 2, bad, &err) != LAC_OK &&
            strstr(err.message, "v2"),
        "label 5 with 5 phases: %s", err.message);
  CHECK(lac_dataset_add_video(ds, "v3", "x.webm", "val", 7, 25, 2, l1, &err) == LAC_ERR_INVALID_ARG,
        "undefined action index");

  char path[512];
  snprintf(path, sizeof path, "%s/labels.json", tmpdir);
  CHECK_OK(lac_dataset_save(ds, path, &err), &err);
  lac_dataset_free(ds);

  lac_dataset *rd = NULL;
  CHECK_OK(lac_dataset_load(tmpdir, &rd, &err), &err); /* by folder */
  if (!rd) return;
  CHECK(rd->n_actions == 2 && rd->n_videos == 2, "counts %d %d", rd->n_actions, rd->n_videos);
  CHECK(rd->name && !strcmp(rd->name, "unit"), "name");
  CHECK(rd->actions[0].n_phases == 5 && !strcmp(rd->actions[0].phases[4], "rest"), "phases");
  CHECK(!strcmp(rd->videos[0].id, "v0") && !strcmp(rd->videos[0].split, "train") &&
            rd->videos[0].action == 0 && rd->videos[0].n_frames == 6 && rd->videos[0].fps == 25,
        "video 0 fields");
  CHECK(!memcmp(rd->videos[0].labels, l0, sizeof l0), "video 0 labels");
  CHECK(!memcmp(rd->videos[1].labels, l1, sizeof l1) && rd->videos[1].fps == 0, "video 1");
  char want[512];
  snprintf(want, sizeof want, "%s/videos/v0.webm", tmpdir);
  CHECK(!strcmp(rd->videos[0].full_path, want), "relative path resolved: %s",
        rd->videos[0].full_path);
  CHECK(!strcmp(rd->videos[1].full_path, "/abs/v1.webm"), "absolute path kept");
  lac_dataset_free(rd);
  CHECK_OK(lac_dataset_load(path, &rd, &err), &err); /* by file */
  if (rd) CHECK(!strcmp(rd->videos[0].full_path, want), "root from the file's folder");
  lac_dataset_free(rd);
}

/* A labels file with one video whose JSON body is `video`; expects failure mentioning needle. */
static void expect_bad(const char *actions, const char *video, lac_status code, const char *needle) {
  char text[4096], path[512];
  snprintf(text, sizeof text,
           "{\"format\": \"lac-dataset\", \"version\": 1, \"actions\": %s, \"videos\": [%s]}",
           actions, video);
  snprintf(path, sizeof path, "%s/bad.json", tmpdir);
  write_file(path, text);
  lac_error err;
  lac_dataset *ds = NULL;
  lac_status st = lac_dataset_load(path, &ds, &err);
  CHECK(st == code && !ds && strstr(err.message, needle),
        "expected %s mentioning '%s' for %s; got %s: %s", lac_status_string(code), needle, video,
        lac_status_string(st), err.message);
  lac_dataset_free(ds);
}

static void test_rules(void) {
  const char *A = "{\"pour\": {\"phases\": [\"a\", \"b\", \"c\"]}}";
  /* events only: converted with n_frames */
  char path[512];
  snprintf(path, sizeof path, "%s/ev.json", tmpdir);
  write_file(path,
             "{\"format\": \"lac-dataset\", \"version\": 1, \"actions\": {\"pour\": {\"phases\": "
             "[\"a\", \"b\", \"c\"]}}, \"videos\": [{\"id\": \"e\", \"path\": \"e.webm\", "
             "\"split\": \"val\", \"action\": \"pour\", \"n_frames\": 6, \"events\": [1, 4]}, "
             "{\"id\": \"both\", \"path\": \"b.webm\", \"split\": \"train\", \"action\": \"pour\", "
             "\"labels\": [0, -1, 1, 2], \"events\": [2, 3]}]}");
  lac_error err;
  lac_dataset *ds = NULL;
  CHECK_OK(lac_dataset_load(path, &ds, &err), &err);
  if (ds) {
    const int32_t want[6] = {0, 1, 1, 1, 2, 2};
    CHECK(ds->videos[0].n_frames == 6 && !memcmp(ds->videos[0].labels, want, sizeof want),
          "events -> labels");
    CHECK(ds->videos[0].n_events == 2 && ds->videos[0].events[1] == 4, "events kept");
    CHECK(ds->videos[1].labels[1] == -1, "labels win where both are given (unlabelled frame)");
    /* saved and read again, events survive */
    char p2[512];
    snprintf(p2, sizeof p2, "%s/ev2.json", tmpdir);
    CHECK_OK(lac_dataset_save(ds, p2, &err), &err);
    lac_dataset *r2 = NULL;
    CHECK_OK(lac_dataset_load(p2, &r2, &err), &err);
    if (r2) CHECK(r2->videos[0].n_events == 2 && !memcmp(r2->videos[0].labels, want, sizeof want),
                  "events round trip");
    lac_dataset_free(r2);
  }
  lac_dataset_free(ds);

  const char *ok_head = "\"id\": \"v\", \"path\": \"v.webm\", \"split\": \"train\", \"action\": \"pour\"";
  char v[1024];
  expect_bad(A, "{\"path\": \"v.webm\", \"split\": \"train\", \"action\": \"pour\", \"labels\": [0]}",
             LAC_ERR_FORMAT, "\"id\"");
  expect_bad(A, "{\"id\": \"v\", \"split\": \"train\", \"action\": \"pour\", \"labels\": [0]}",
             LAC_ERR_FORMAT, "\"path\"");
  snprintf(v, sizeof v, "{%s}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "neither");
  snprintf(v, sizeof v, "{%s, \"labels\": [0, 3]}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "label at frame 1");
  snprintf(v, sizeof v, "{%s, \"labels\": [0, 1.5]}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "label at frame 1");
  snprintf(v, sizeof v, "{%s, \"labels\": [0, -2]}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "label at frame 1");
  snprintf(v, sizeof v, "{%s, \"labels\": []}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "non-empty");
  snprintf(v, sizeof v, "{%s, \"labels\": [0, 1], \"n_frames\": 3}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "one label per frame");
  snprintf(v, sizeof v, "{%s, \"events\": [1, 2]}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "needs \"n_frames\"");
  snprintf(v, sizeof v, "{%s, \"events\": [1], \"n_frames\": 4}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "must list 2 key-event frames");
  snprintf(v, sizeof v, "{%s, \"events\": [3, 1], \"n_frames\": 4}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "strictly increasing");
  snprintf(v, sizeof v, "{%s, \"events\": [1, 9], \"n_frames\": 4}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "outside");
  snprintf(v, sizeof v, "{%s, \"labels\": [0, 0, 1, 2], \"events\": [1, 3]}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "disagree at frame 1");
  snprintf(v, sizeof v, "{%s, \"labels\": [0], \"fps\": -3}", ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "\"fps\"");
  expect_bad(A, "{\"id\": \"v\", \"path\": \"v\", \"split\": \"train\", \"action\": \"stir\", \"labels\": [0]}",
             LAC_ERR_FORMAT, "action 'stir'");
  snprintf(v, sizeof v, "{%s, \"labels\": [0]}, {%s, \"labels\": [1]}", ok_head, ok_head);
  expect_bad(A, v, LAC_ERR_FORMAT, "appears twice");
  snprintf(v, sizeof v, "{%s, \"labels\": [0]}", ok_head);
  expect_bad("{\"pour\": {\"phases\": []}}", v, LAC_ERR_FORMAT, "non-empty list of phase names");
  expect_bad("[]", v, LAC_ERR_FORMAT, "\"actions\" must be an object");
  expect_bad("{\"pour\": {\"phases\": [\"a\", 3]}}", v, LAC_ERR_FORMAT, "phase 1");
  expect_bad(A, "7", LAC_ERR_FORMAT, "videos[0] is not an object");

  /* whole-file errors */
  lac_dataset *x = NULL;
  snprintf(path, sizeof path, "%s/notjson.json", tmpdir);
  write_file(path, "{\"format\": \"lac-dataset\", ");
  CHECK(lac_dataset_load(path, &x, &err) == LAC_ERR_FORMAT && strstr(err.message, "not a JSON"),
        "truncated JSON: %s", err.message);
  write_file(path, "{\"format\": \"carl\", \"version\": 1}");
  CHECK(lac_dataset_load(path, &x, &err) == LAC_ERR_FORMAT && strstr(err.message, "import_dataset"),
        "wrong format tag: %s", err.message);
  write_file(path, "{\"format\": \"lac-dataset\", \"version\": 2}");
  CHECK(lac_dataset_load(path, &x, &err) == LAC_ERR_FORMAT && strstr(err.message, "version"),
        "future version: %s", err.message);
  snprintf(path, sizeof path, "%s/missing-dir", tmpdir);
  CHECK(lac_dataset_load(path, &x, &err) == LAC_ERR_IO && strstr(err.message, "missing-dir"),
        "missing dataset: %s", err.message);
  CHECK(!x, "no dataset returned on failure");

  /* a failed save leaves nothing behind and says why */
  lac_dataset *ds2 = NULL;
  const char *ph[] = {"p"};
  CHECK_OK(lac_dataset_new(tmpdir, NULL, &ds2, &err), &err);
  if (ds2) {
    CHECK_OK(lac_dataset_add_action(ds2, "a", 1, ph, NULL, &err), &err);
    snprintf(path, sizeof path, "%s/no-such-dir/labels.json", tmpdir);
    CHECK(lac_dataset_save(ds2, path, &err) == LAC_ERR_IO, "save into a missing folder");
  }
  lac_dataset_free(ds2);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/lac-test-dataset-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_events();
  test_roundtrip();
  test_rules();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_exit("dataset");
}
