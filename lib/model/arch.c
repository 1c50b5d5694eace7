/* arch.c — architecture hyper-parameters: presets, validation, the "lac.arch.*" metadata
 * of model files, the ResNet trunk's block structure and the table of tensors (PyTorch
 * state_dict names and shapes) that an architecture expects.
 * Not here: weights (model.c) and the forward pass (encoder.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lac_internal.h"

static const char *const preset_names[] = {"resnet50", "resnet18-112", NULL};

const char *const *lac_arch_preset_names(void) { return preset_names; }

const char *lac_trunk_name(lac_trunk t) {
  switch (t) {
  case LAC_TRUNK_RESNET18: return "resnet18";
  case LAC_TRUNK_RESNET34: return "resnet34";
  case LAC_TRUNK_RESNET50: return "resnet50";
  }
  return "unknown";
}

static const int layer_blocks[3][3] = {{2, 2, 2}, {3, 4, 6}, {3, 4, 6}};

static int trunk_max_layer3(lac_trunk t) { return layer_blocks[t][2]; }

lac_status lac_arch_preset(const char *name, lac_arch *out, lac_error *err) {
  if (!name || !out) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_arch_preset: NULL argument");
  lac_arch a = {
      .trunk = LAC_TRUNK_RESNET50,
      .layer3_blocks = 3,
      .input_size = 224,
      .context = 1,
      .conv_channels = 512,
      .fc_dim = 512,
      .d_model = 256,
      .n_heads = 8,
      .ff_dim = 1024,
      .n_layers = 2,
      .embed_dim = 128,
      .train_len = 32,
      .attention = LAC_ATTENTION_TIME,
      .l2_normalize = 0,
  };
  if (strcmp(name, "resnet50") == 0) {
    /* the paper's encoder */
  } else if (strcmp(name, "resnet18-112") == 0) {
    a.trunk = LAC_TRUNK_RESNET18;
    a.layer3_blocks = 2;
    a.input_size = 112;
  } else {
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "unknown architecture preset '%s': use resnet50 or resnet18-112", name);
  }
  *out = a;
  return LAC_OK;
}

int lac_arch_trunk_channels(const lac_arch *a) {
  return a->trunk == LAC_TRUNK_RESNET50 ? 1024 : 256;
}

int lac_arch_trunk_size(const lac_arch *a) {
  int s = lac_conv_out_size(a->input_size, 7, 2, 3); /* stem conv */
  s = lac_conv_out_size(s, 3, 2, 1);                 /* max pool */
  s = lac_conv_out_size(s, 3, 2, 1);                 /* layer2 */
  return lac_conv_out_size(s, 3, 2, 1);              /* layer3 */
}

#define RANGE(field, lo, hi)                                                                       \
  if (a->field < (lo) || a->field > (hi))                                                          \
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "architecture: " #field " must be in [%d, %d], got %d", \
                         (lo), (hi), a->field);

lac_status lac_arch_validate(const lac_arch *a, lac_error *err) {
  if (!a) return lac_error_set(err, LAC_ERR_INVALID_ARG, "architecture is NULL");
  if ((int)a->trunk < 0 || a->trunk > LAC_TRUNK_RESNET50)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "architecture: unknown trunk %d", (int)a->trunk);
  RANGE(layer3_blocks, 1, trunk_max_layer3(a->trunk));
  RANGE(input_size, 80, 1024);
  RANGE(context, 1, 64);
  RANGE(conv_channels, 1, 8192);
  RANGE(fc_dim, 1, 8192);
  RANGE(d_model, 2, 8192);
  RANGE(n_heads, 1, a->d_model);
  RANGE(ff_dim, 1, 65536);
  RANGE(n_layers, 0, 64);
  RANGE(embed_dim, 1, 8192);
  RANGE(train_len, 1, 1 << 20);
  if (a->d_model % a->n_heads != 0)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "architecture: d_model (%d) must be a multiple of n_heads (%d)", a->d_model,
                         a->n_heads);
  if ((int)a->attention < 0 || a->attention > LAC_ATTENTION_FRAME)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "architecture: unknown attention mode %d",
                         (int)a->attention);
  if (a->l2_normalize != 0 && a->l2_normalize != 1)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "architecture: l2_normalize must be 0 or 1");
  if (lac_arch_trunk_size(a) < 5)
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "architecture: input_size %d gives a %dx%d trunk output; the two valid "
                         "3x3 head convolutions need at least 5x5 (input_size >= 80)",
                         a->input_size, lac_arch_trunk_size(a), lac_arch_trunk_size(a));
  return LAC_OK;
}

int lac_arch_blocks(const lac_arch *a, lac_block_spec blocks[LAC_MAX_BLOCKS]) {
  const int bottleneck = a->trunk == LAC_TRUNK_RESNET50;
  const int expansion = bottleneck ? 4 : 1;
  int in_ch = 64, n = 0;
  for (int layer = 1; layer <= 3; layer++) {
    const int planes = 64 << (layer - 1);
    const int count = layer == 3 ? a->layer3_blocks : layer_blocks[a->trunk][layer - 1];
    for (int i = 0; i < count && n < LAC_MAX_BLOCKS; i++) {
      const int stride = (i == 0 && layer > 1) ? 2 : 1;
      lac_block_spec *b = &blocks[n++];
      b->bottleneck = bottleneck;
      b->layer = layer;
      b->index = i;
      b->in_ch = in_ch;
      b->planes = planes;
      b->out_ch = planes * expansion;
      b->stride = stride;
      b->has_down = (stride != 1 || in_ch != planes * expansion);
      in_ch = b->out_ch;
    }
  }
  return n;
}

/* ---------------------------------------------------------------- tensor table */

typedef struct {
  lac_tensor_desc *v;
  size_t n, cap, floats;
  lac_status st;
} table;

static void add(table *t, lac_tensor_kind kind, int ndim, const int64_t *shape, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));

static void add(table *t, lac_tensor_kind kind, int ndim, const int64_t *shape, const char *fmt,
                ...) {
  if (t->st != LAC_OK) return;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    lac_tensor_desc *v = realloc(t->v, cap * sizeof *v);
    if (!v) {
      t->st = LAC_ERR_NOMEM;
      return;
    }
    t->v = v;
    t->cap = cap;
  }
  lac_tensor_desc *d = &t->v[t->n++];
  memset(d, 0, sizeof *d);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->name, sizeof d->name, fmt, ap);
  va_end(ap);
  d->ndim = ndim;
  d->numel = 1;
  for (int i = 0; i < ndim; i++) {
    d->shape[i] = shape[i];
    d->numel *= (size_t)shape[i];
  }
  d->kind = kind;
  d->offset = t->floats;
  t->floats += (d->numel + 15) & ~(size_t)15; /* keep every tensor 64-byte aligned */
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

static void add_bn(table *t, int64_t c, const char *prefix) {
  add(t, LAC_T_PARAM, 1, &c, "%s.weight", prefix);
  add(t, LAC_T_PARAM, 1, &c, "%s.bias", prefix);
  add(t, LAC_T_BUFFER, 1, &c, "%s.running_mean", prefix);
  add(t, LAC_T_BUFFER, 1, &c, "%s.running_var", prefix);
}

static void add_linear(table *t, int64_t out, int64_t in, const char *prefix) {
  add(t, LAC_T_PARAM, 2, SHAPE(out, in), "%s.weight", prefix);
  add(t, LAC_T_PARAM, 1, &out, "%s.bias", prefix);
}

lac_status lac_arch_tensor_table(const lac_arch *a, lac_tensor_desc **out, size_t *n_out,
                                 size_t *n_floats, lac_error *err) {
  lac_status st = lac_arch_validate(a, err);
  if (st != LAC_OK) return st;
  table t = {0};
  char p[96];
  add(&t, LAC_T_PARAM, 4, SHAPE(64, 3, 7, 7), "model.conv1.weight");
  add_bn(&t, 64, "model.bn1");
  lac_block_spec blocks[LAC_MAX_BLOCKS];
  const int nb = lac_arch_blocks(a, blocks);
  for (int i = 0; i < nb; i++) {
    const lac_block_spec *b = &blocks[i];
    char bp[64];
    snprintf(bp, sizeof bp, "model.layer%d.%d", b->layer, b->index);
    if (b->bottleneck) {
      add(&t, LAC_T_PARAM, 4, SHAPE(b->planes, b->in_ch, 1, 1), "%s.conv1.weight", bp);
      snprintf(p, sizeof p, "%s.bn1", bp);
      add_bn(&t, b->planes, p);
      add(&t, LAC_T_PARAM, 4, SHAPE(b->planes, b->planes, 3, 3), "%s.conv2.weight", bp);
      snprintf(p, sizeof p, "%s.bn2", bp);
      add_bn(&t, b->planes, p);
      add(&t, LAC_T_PARAM, 4, SHAPE(b->out_ch, b->planes, 1, 1), "%s.conv3.weight", bp);
      snprintf(p, sizeof p, "%s.bn3", bp);
      add_bn(&t, b->out_ch, p);
    } else {
      add(&t, LAC_T_PARAM, 4, SHAPE(b->planes, b->in_ch, 3, 3), "%s.conv1.weight", bp);
      snprintf(p, sizeof p, "%s.bn1", bp);
      add_bn(&t, b->planes, p);
      add(&t, LAC_T_PARAM, 4, SHAPE(b->planes, b->planes, 3, 3), "%s.conv2.weight", bp);
      snprintf(p, sizeof p, "%s.bn2", bp);
      add_bn(&t, b->planes, p);
    }
    if (b->has_down) {
      add(&t, LAC_T_PARAM, 4, SHAPE(b->out_ch, b->in_ch, 1, 1), "%s.downsample.0.weight", bp);
      snprintf(p, sizeof p, "%s.downsample.1", bp);
      add_bn(&t, b->out_ch, p);
    }
  }
  const int64_t ct = lac_arch_trunk_channels(a), cc = a->conv_channels;
  add(&t, LAC_T_PARAM, 5, SHAPE(cc, ct, 3, 3, 3), "conv_layers.0.weight");
  add(&t, LAC_T_PARAM, 1, &cc, "conv_layers.0.bias");
  add_bn(&t, cc, "conv_layers.1");
  add(&t, LAC_T_PARAM, 5, SHAPE(cc, cc, 3, 3, 3), "conv_layers.3.weight");
  add(&t, LAC_T_PARAM, 1, &cc, "conv_layers.3.bias");
  add_bn(&t, cc, "conv_layers.4");
  add_linear(&t, a->fc_dim, cc, "fc_layers.1");
  add_linear(&t, a->fc_dim, a->fc_dim, "fc_layers.4");
  add_linear(&t, a->d_model, a->fc_dim, "embedding_layer");
  const int64_t d = a->d_model, d3 = 3 * d;
  for (int l = 0; l < a->n_layers; l++) {
    char lp[64];
    snprintf(lp, sizeof lp, "transformer_encoder.layers.%d", l);
    add(&t, LAC_T_PARAM, 2, SHAPE(d3, d), "%s.self_attn.in_proj_weight", lp);
    add(&t, LAC_T_PARAM, 1, &d3, "%s.self_attn.in_proj_bias", lp);
    snprintf(p, sizeof p, "%s.self_attn.out_proj", lp);
    add_linear(&t, d, d, p);
    snprintf(p, sizeof p, "%s.linear1", lp);
    add_linear(&t, a->ff_dim, d, p);
    snprintf(p, sizeof p, "%s.linear2", lp);
    add_linear(&t, d, a->ff_dim, p);
    add(&t, LAC_T_PARAM, 1, &d, "%s.norm1.weight", lp);
    add(&t, LAC_T_PARAM, 1, &d, "%s.norm1.bias", lp);
    add(&t, LAC_T_PARAM, 1, &d, "%s.norm2.weight", lp);
    add(&t, LAC_T_PARAM, 1, &d, "%s.norm2.bias", lp);
  }
  add_linear(&t, a->embed_dim, d, "embedding_layer2");
  if (t.st != LAC_OK) {
    free(t.v);
    return lac_error_set(err, t.st, "out of memory building the tensor table");
  }
  *out = t.v;
  *n_out = t.n;
  *n_floats = t.floats;
  return LAC_OK;
}

/* ---------------------------------------------------------------- metadata */

static lac_status meta_int(const lac_st_file *f, const char *what, const char *key, int *out,
                           lac_error *err) {
  const char *v = lac_st_meta_get(f, key);
  if (!v)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: metadata key '%s' is missing (is this a lac model file? convert "
                         "PyTorch checkpoints with tools/convert.py)",
                         what, key);
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < INT_MIN || x > INT_MAX)
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: metadata '%s' = '%s' is not an integer", what,
                         key, v);
  *out = (int)x;
  return LAC_OK;
}

lac_status lac_arch_from_meta(const lac_st_file *f, const char *what, lac_arch *out,
                              lac_error *err) {
  const char *fmt = lac_st_meta_get(f, "lac.format");
  if (!fmt || strcmp(fmt, "lac-model") != 0)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: not a lac model file (metadata lac.format is %s%s%s, expected "
                         "\"lac-model\")%s",
                         what, fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "",
                         fmt && strcmp(fmt, "lac-embeddings") == 0
                             ? ": this is an embeddings file"
                             : "; convert PyTorch checkpoints with tools/convert.py");
  const char *ver = lac_st_meta_get(f, "lac.version");
  if (!ver || strcmp(ver, "1") != 0)
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: model file version %s is not supported (this lac reads version 1)",
                         what, ver ? ver : "(missing)");
  lac_arch a;
  memset(&a, 0, sizeof a);
  const char *trunk = lac_st_meta_get(f, "lac.arch.trunk");
  if (!trunk) return lac_error_set(err, LAC_ERR_FORMAT, "%s: metadata 'lac.arch.trunk' is missing", what);
  if (strcmp(trunk, "resnet18") == 0) a.trunk = LAC_TRUNK_RESNET18;
  else if (strcmp(trunk, "resnet34") == 0) a.trunk = LAC_TRUNK_RESNET34;
  else if (strcmp(trunk, "resnet50") == 0) a.trunk = LAC_TRUNK_RESNET50;
  else
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: lac.arch.trunk '%s' unknown (expected resnet18, resnet34 or resnet50)",
                         what, trunk);
  lac_status st;
#define GET(field)                                                                           \
  if ((st = meta_int(f, what, "lac.arch." #field, &a.field, err)) != LAC_OK) return st;
  GET(layer3_blocks) GET(input_size) GET(context) GET(conv_channels) GET(fc_dim) GET(d_model)
  GET(n_heads) GET(ff_dim) GET(n_layers) GET(embed_dim) GET(train_len) GET(l2_normalize)
#undef GET
  const char *att = lac_st_meta_get(f, "lac.arch.attention");
  if (!att) return lac_error_set(err, LAC_ERR_FORMAT, "%s: metadata 'lac.arch.attention' is missing", what);
  if (strcmp(att, "time") == 0) a.attention = LAC_ATTENTION_TIME;
  else if (strcmp(att, "frame") == 0) a.attention = LAC_ATTENTION_FRAME;
  else
    return lac_error_set(err, LAC_ERR_FORMAT,
                         "%s: lac.arch.attention '%s' unknown (expected time or frame)", what, att);
  lac_error e2;
  if (lac_arch_validate(&a, &e2) != LAC_OK)
    return lac_error_set(err, LAC_ERR_FORMAT, "%s: %s", what, e2.message);
  *out = a;
  return LAC_OK;
}

lac_status lac_arch_to_meta(const lac_arch *a, lac_st_writer *w, lac_error *err) {
  char buf[32];
  lac_status st;
  if ((st = lac_st_writer_meta(w, "lac.format", "lac-model", err)) != LAC_OK) return st;
  if ((st = lac_st_writer_meta(w, "lac.version", "1", err)) != LAC_OK) return st;
  if ((st = lac_st_writer_meta(w, "lac.arch.trunk", lac_trunk_name(a->trunk), err)) != LAC_OK)
    return st;
#define PUT(field)                                                                           \
  snprintf(buf, sizeof buf, "%d", a->field);                                                 \
  if ((st = lac_st_writer_meta(w, "lac.arch." #field, buf, err)) != LAC_OK) return st;
  PUT(layer3_blocks) PUT(input_size) PUT(context) PUT(conv_channels) PUT(fc_dim) PUT(d_model)
  PUT(n_heads) PUT(ff_dim) PUT(n_layers) PUT(embed_dim) PUT(train_len) PUT(l2_normalize)
#undef PUT
  return lac_st_writer_meta(w, "lac.arch.attention",
                            a->attention == LAC_ATTENTION_FRAME ? "frame" : "time", err);
}
