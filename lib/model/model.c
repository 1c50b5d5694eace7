/* model.c — lac_model: loading a safetensors model file against the architecture's tensor
 * table, PyTorch-style random initialisation, saving, metadata, and folding BatchNorm into
 * the convolutions for inference (plus the Winograd weights of the 3x3 stride-1 convs).
 * Not here: the forward pass (encoder.c), per-stream state (session.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static const char *const optional_tensors[] = {"go", "ge", NULL};

const lac_tensor_desc *lac_model_find(const lac_model *m, const char *name) {
  for (size_t i = 0; i < m->n_tensors; i++)
    if (strcmp(m->table[i].name, name) == 0) return &m->table[i];
  return NULL;
}

static const float *P(const lac_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const float *P(const lac_model *m, const char *fmt, ...) {
  char name[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  const lac_tensor_desc *d = lac_model_find(m, name);
  return d ? m->params + d->offset : NULL;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < ndim && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < n) snprintf(buf + used, n - used, "]");
}

static void compute_id(lac_model *m) {
  uint64_t h = 0xcbf29ce484222325ULL;
#define FNV(ptr, len)                                                                        \
  for (size_t k_ = 0; k_ < (len); k_++) h = (h ^ ((const unsigned char *)(ptr))[k_]) * 0x100000001b3ULL;
  for (size_t i = 0; i < m->n_tensors; i++) {
    const lac_tensor_desc *d = &m->table[i];
    FNV(d->name, strlen(d->name));
    FNV(d->shape, sizeof(int64_t) * (size_t)d->ndim);
    FNV(m->params + d->offset, sizeof(float) * d->numel);
  }
#undef FNV
  snprintf(m->id, sizeof m->id, "%016llx", (unsigned long long)h);
}

/* ---------------------------------------------------------------- folding */

/* The folded arena is filled in two walks over the same code: the first (base NULL) only
 * counts the floats, the second writes them.  Each piece starts 64-byte aligned. */
typedef struct {
  float *base; /* NULL while counting */
  size_t used; /* floats */
} fold_arena;

static float *take(fold_arena *a, size_t n) {
  float *p = a->base ? a->base + a->used : NULL;
  a->used += (n + 15) & ~(size_t)15;
  return p;
}

/* Winograd weights u[16][cout][cin] for a 3x3 stride-1 conv (c->wino stays NULL otherwise
 * and while counting). */
static void fold_wino(fold_arena *a, lac_conv2d *c) {
  c->wino = NULL;
  if (!lac_wino_applies(c)) return;
  float *u = take(a, lac_wino_weight_floats(c));
  if (!u) return;
  lac_wino_weights(c, u);
  c->wino = u;
}

static void fold_conv(lac_model *m, fold_arena *a, lac_conv2d *c, const char *wname,
                      const char *bnprefix, int stride, int pad) {
  const lac_tensor_desc *wd = lac_model_find(m, wname);
  char n[4][128];
  snprintf(n[0], sizeof n[0], "%s.weight", bnprefix);
  snprintf(n[1], sizeof n[1], "%s.bias", bnprefix);
  snprintf(n[2], sizeof n[2], "%s.running_mean", bnprefix);
  snprintf(n[3], sizeof n[3], "%s.running_var", bnprefix);
  c->cout = (int)wd->shape[0];
  c->cin = (int)wd->shape[1];
  c->k = (int)wd->shape[2];
  c->stride = stride;
  c->pad = pad;
  float *w = take(a, wd->numel), *b = take(a, (size_t)c->cout);
  if (a->base)
    lac_bn_fold(m->params + wd->offset, NULL, P(m, "%s", n[0]), P(m, "%s", n[1]),
                P(m, "%s", n[2]), P(m, "%s", n[3]), 1e-5f, c->cout, wd->numel / (size_t)c->cout,
                w, b);
  c->w = w;
  c->b = b;
  fold_wino(a, c);
}

/* Head conv idx: w [cout][cin*27], or [cout][cin*9] (middle temporal slice) for context 1,
 * where *c2 becomes the equivalent 2-D conv (padding 0) with its Winograd weights. */
static void fold_head_conv(lac_model *m, fold_arena *a, int idx, const float **w_out,
                           const float **b_out, lac_conv2d *c2) {
  char wn[64], bn[64];
  snprintf(wn, sizeof wn, "conv_layers.%d.weight", idx);
  snprintf(bn, sizeof bn, "conv_layers.%d", idx + 1);
  const lac_tensor_desc *wd = lac_model_find(m, wn);
  const int cout = (int)wd->shape[0], cin = (int)wd->shape[1];
  const size_t per3 = (size_t)cin * 27;
  float *tmp3 = take(a, (size_t)cout * per3), *b = take(a, (size_t)cout);
  if (a->base) {
    lac_bn_fold(m->params + wd->offset, P(m, "conv_layers.%d.bias", idx), P(m, "%s.weight", bn),
                P(m, "%s.bias", bn), P(m, "%s.running_mean", bn), P(m, "%s.running_var", bn),
                1e-5f, cout, per3, tmp3, b);
    if (m->arch.context == 1) /* c = 1: only the middle temporal slice meets data */
      for (size_t oc = 0; oc < (size_t)cout * cin; oc++)
        memmove(tmp3 + oc * 9, tmp3 + oc * 27 + 9, sizeof(float) * 9);
  }
  *w_out = tmp3;
  *b_out = b;
  memset(c2, 0, sizeof *c2);
  if (m->arch.context == 1) {
    *c2 = (lac_conv2d){cin, cout, 3, 1, 0, tmp3, b, NULL};
    fold_wino(a, c2);
  }
}

/* Every folded tensor, placed in a (counting when a->base is NULL). */
static void fold_walk(lac_model *m, fold_arena *a) {
  lac_infer *inf = &m->inf;
  fold_conv(m, a, &inf->stem, "model.conv1.weight", "model.bn1", 2, 3);
  lac_block_spec specs[LAC_MAX_BLOCKS];
  inf->n_blocks = lac_arch_blocks(&m->arch, specs);
  for (int i = 0; i < inf->n_blocks; i++) {
    lac_block_w *bw = &inf->blocks[i];
    const lac_block_spec *s = &specs[i];
    char p[64], wn[96], bn[96];
    bw->spec = *s;
    snprintf(p, sizeof p, "model.layer%d.%d", s->layer, s->index);
    const int nconv = s->bottleneck ? 3 : 2;
    lac_conv2d *convs[3] = {&bw->conv1, &bw->conv2, &bw->conv3};
    for (int c = 0; c < nconv; c++) {
      snprintf(wn, sizeof wn, "%s.conv%d.weight", p, c + 1);
      snprintf(bn, sizeof bn, "%s.bn%d", p, c + 1);
      int k = (int)lac_model_find(m, wn)->shape[2];
      /* torchvision v1.5: the stride sits on the 3x3 conv (conv2 in a Bottleneck, conv1 in
       * a BasicBlock) */
      int stride = (s->bottleneck ? c == 1 : c == 0) ? s->stride : 1;
      fold_conv(m, a, convs[c], wn, bn, stride, k / 2);
    }
    if (s->has_down) {
      snprintf(wn, sizeof wn, "%s.downsample.0.weight", p);
      snprintf(bn, sizeof bn, "%s.downsample.1", p);
      fold_conv(m, a, &bw->down, wn, bn, s->stride, 0);
    }
  }
  fold_head_conv(m, a, 0, &inf->h1_w, &inf->h1_b, &inf->head1);
  fold_head_conv(m, a, 3, &inf->h2_w, &inf->h2_b, &inf->head2);
}

static lac_status fold(lac_model *m, lac_error *err) {
  fold_arena count = {NULL, 0};
  fold_walk(m, &count);
  m->folded = lac_alloc(sizeof(float) * count.used);
  m->inf.layers = calloc((size_t)(m->arch.n_layers ? m->arch.n_layers : 1), sizeof(lac_tlayer));
  if (!m->folded || !m->inf.layers)
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory folding the model (%zu floats)",
                         count.used);
  fold_arena arena = {m->folded, 0};
  fold_walk(m, &arena);
  lac_infer *inf = &m->inf;
  inf->fc1_w = P(m, "fc_layers.1.weight");
  inf->fc1_b = P(m, "fc_layers.1.bias");
  inf->fc2_w = P(m, "fc_layers.4.weight");
  inf->fc2_b = P(m, "fc_layers.4.bias");
  inf->proj_w = P(m, "embedding_layer.weight");
  inf->proj_b = P(m, "embedding_layer.bias");
  for (int l = 0; l < m->arch.n_layers; l++) {
    lac_tlayer *t = &inf->layers[l];
    const char *lp = "transformer_encoder.layers";
    t->in_w = P(m, "%s.%d.self_attn.in_proj_weight", lp, l);
    t->in_b = P(m, "%s.%d.self_attn.in_proj_bias", lp, l);
    t->out_w = P(m, "%s.%d.self_attn.out_proj.weight", lp, l);
    t->out_b = P(m, "%s.%d.self_attn.out_proj.bias", lp, l);
    t->l1_w = P(m, "%s.%d.linear1.weight", lp, l);
    t->l1_b = P(m, "%s.%d.linear1.bias", lp, l);
    t->l2_w = P(m, "%s.%d.linear2.weight", lp, l);
    t->l2_b = P(m, "%s.%d.linear2.bias", lp, l);
    t->n1_w = P(m, "%s.%d.norm1.weight", lp, l);
    t->n1_b = P(m, "%s.%d.norm1.bias", lp, l);
    t->n2_w = P(m, "%s.%d.norm2.weight", lp, l);
    t->n2_b = P(m, "%s.%d.norm2.bias", lp, l);
    t->d = m->arch.d_model;
    t->n_heads = m->arch.n_heads;
    t->ff = m->arch.ff_dim;
  }
  inf->out_w = P(m, "embedding_layer2.weight");
  inf->out_b = P(m, "embedding_layer2.bias");
  if (arena.used != count.used)
    return lac_error_set(err, LAC_ERR_BACKEND, "internal: folded weights overflow their arena");
  return LAC_OK;
}

/* ---------------------------------------------------------------- create / free */

static lac_status model_alloc(lac_backend *backend, const lac_arch *arch, lac_model **out,
                              lac_error *err) {
  if (!backend) return lac_error_set(err, LAC_ERR_INVALID_ARG, "backend is NULL");
  if (!backend->ops->runs_encoder)
    return lac_error_set(err, LAC_ERR_UNSUPPORTED,
                         "the %s backend does not run the encoder yet; use the CPU backend",
                         backend->ops->name);
  lac_model *m = calloc(1, sizeof *m);
  if (!m) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  m->backend = backend;
  m->arch = *arch;
  lac_status st = lac_arch_tensor_table(arch, &m->table, &m->n_tensors, &m->n_floats, err);
  if (st != LAC_OK) {
    free(m);
    return st;
  }
  m->params = lac_alloc(sizeof(float) * m->n_floats);
  if (!m->params) {
    lac_model_free(m);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory for %zu parameters", m->n_floats);
  }
  *out = m;
  return LAC_OK;
}

void lac_model_free(lac_model *m) {
  if (!m) return;
  lac_free(m->params);
  lac_free(m->folded);
  free(m->inf.layers);
  free(m->table);
  for (size_t i = 0; i < m->n_extras; i++) free(m->extras[i].data);
  free(m->extras);
  for (size_t i = 0; i < m->n_meta; i++) {
    free(m->meta_keys[i]);
    free(m->meta_values[i]);
  }
  free(m->meta_keys);
  free(m->meta_values);
  free(m);
}

lac_status lac_model_meta_set(lac_model *m, const char *key, const char *value, lac_error *err) {
  if (!m || !key || !value || !*key)
    return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_model_meta_set: empty key or NULL value");
  if (strncmp(key, "lac.arch.", 9) == 0 || !strcmp(key, "lac.format") || !strcmp(key, "lac.version"))
    return lac_error_set(err, LAC_ERR_INVALID_ARG,
                         "metadata key '%s' is reserved (the architecture is fixed per model)", key);
  for (size_t i = 0; i < m->n_meta; i++)
    if (strcmp(m->meta_keys[i], key) == 0) {
      char *v = strdup(value);
      if (!v) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
      free(m->meta_values[i]);
      m->meta_values[i] = v;
      return LAC_OK;
    }
  char **k = realloc(m->meta_keys, (m->n_meta + 1) * sizeof *k);
  if (!k) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  m->meta_keys = k;
  char **v = realloc(m->meta_values, (m->n_meta + 1) * sizeof *v);
  if (!v) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  m->meta_values = v;
  k[m->n_meta] = strdup(key);
  v[m->n_meta] = strdup(value);
  if (!k[m->n_meta] || !v[m->n_meta]) {
    free(k[m->n_meta]);
    free(v[m->n_meta]);
    return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  }
  m->n_meta++;
  return LAC_OK;
}

static int is_bn_name(const char *n) {
  return strstr(n, ".bn") || strstr(n, "downsample.1.") || strstr(n, "conv_layers.1.") ||
         strstr(n, "conv_layers.4.") || strstr(n, ".norm1.") || strstr(n, ".norm2.");
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

lac_status lac_model_init_random(lac_backend *backend, const lac_arch *arch, uint64_t seed,
                                 lac_model **out, lac_error *err) {
  if (!out || !arch) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_model_init_random: NULL argument");
  *out = NULL;
  lac_model *m;
  lac_status st = model_alloc(backend, arch, &m, err);
  if (st != LAC_OK) return st;
  lac_rng rng;
  lac_rng_seed(&rng, seed);
  size_t prev_fan_in = 1;
  for (size_t i = 0; i < m->n_tensors; i++) {
    const lac_tensor_desc *d = &m->table[i];
    float *p = m->params + d->offset;
    const char *n = d->name;
    if (ends_with(n, ".running_mean")) {
      memset(p, 0, sizeof(float) * d->numel);
    } else if (ends_with(n, ".running_var") || (is_bn_name(n) && ends_with(n, ".weight"))) {
      for (size_t j = 0; j < d->numel; j++) p[j] = 1.f;
    } else if (is_bn_name(n) || ends_with(n, "in_proj_bias") || ends_with(n, "out_proj.bias")) {
      memset(p, 0, sizeof(float) * d->numel);
    } else if (d->ndim == 4) {
      /* torchvision ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu") */
      double std = sqrt(2.0 / (double)(d->shape[0] * d->shape[2] * d->shape[3]));
      for (size_t j = 0; j < d->numel; j++) p[j] = (float)(std * lac_rng_normal(&rng));
    } else if (ends_with(n, "in_proj_weight")) {
      /* xavier_uniform_ over [3d, d] */
      double bound = sqrt(6.0 / (double)(d->shape[0] + d->shape[1]));
      for (size_t j = 0; j < d->numel; j++) p[j] = (float)(bound * (2 * lac_rng_uniform(&rng) - 1));
    } else if (d->ndim == 5 || d->ndim == 2) {
      /* nn.Conv3d / nn.Linear defaults: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)) */
      prev_fan_in = d->numel / (size_t)d->shape[0];
      double bound = 1.0 / sqrt((double)prev_fan_in);
      for (size_t j = 0; j < d->numel; j++) p[j] = (float)(bound * (2 * lac_rng_uniform(&rng) - 1));
    } else {
      /* the bias following a Conv3d / Linear weight: U(+-1/sqrt(fan_in)) */
      double bound = 1.0 / sqrt((double)prev_fan_in);
      for (size_t j = 0; j < d->numel; j++) p[j] = (float)(bound * (2 * lac_rng_uniform(&rng) - 1));
    }
  }
  char seedbuf[32];
  snprintf(seedbuf, sizeof seedbuf, "%llu", (unsigned long long)seed);
  if ((st = lac_model_meta_set(m, "lac.init_seed", seedbuf, err)) != LAC_OK ||
      (st = lac_model_meta_set(m, "lac.source", "lac model init (PyTorch default schemes)", err)) !=
          LAC_OK ||
      (st = fold(m, err)) != LAC_OK) {
    lac_model_free(m);
    return st;
  }
  compute_id(m);
  *out = m;
  return LAC_OK;
}

/* ---------------------------------------------------------------- load */

static lac_status load_tensors(lac_model *m, const lac_st_file *f, const char *path,
                               lac_error *err) {
  unsigned char *seen = calloc(m->n_tensors, 1);
  if (!seen) return lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
  lac_status st = LAC_OK;
  char a[128], b[128];
  for (size_t i = 0; i < lac_st_count(f) && st == LAC_OK; i++) {
    const lac_st_tensor *t = lac_st_at(f, i);
    const lac_tensor_desc *d = lac_model_find(m, t->name);
    if (!d) {
      if (ends_with(t->name, ".num_batches_tracked")) continue; /* PyTorch bookkeeping */
      int optional = 0;
      for (int k = 0; optional_tensors[k]; k++) optional |= !strcmp(t->name, optional_tensors[k]);
      if (!optional) {
        st = lac_error_set(err, LAC_ERR_MODEL_MISMATCH,
                           "%s: unknown tensor '%s': a %s model with layer3_blocks=%d has no such "
                           "tensor (is the file for another architecture?)",
                           path, t->name, lac_trunk_name(m->arch.trunk), m->arch.layer3_blocks);
        break;
      }
      if (t->dtype != LAC_DTYPE_F32) {
        st = lac_error_set(err, LAC_ERR_MODEL_MISMATCH, "%s: tensor '%s': expected F32, got %s",
                           path, t->name, lac_dtype_name(t->dtype));
        break;
      }
      lac_extra_tensor *ex = realloc(m->extras, (m->n_extras + 1) * sizeof *ex);
      if (!ex) {
        st = lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
        break;
      }
      m->extras = ex;
      lac_extra_tensor *e = &ex[m->n_extras];
      memset(e, 0, sizeof *e);
      snprintf(e->name, sizeof e->name, "%s", t->name);
      e->ndim = t->ndim;
      memcpy(e->shape, t->shape, sizeof e->shape);
      e->numel = (size_t)t->n_elements;
      e->data = malloc(t->n_bytes ? t->n_bytes : 1);
      if (!e->data) {
        st = lac_error_set(err, LAC_ERR_NOMEM, "out of memory");
        break;
      }
      memcpy(e->data, t->data, t->n_bytes);
      m->n_extras++;
      continue;
    }
    if (t->dtype != LAC_DTYPE_F32) {
      st = lac_error_set(err, LAC_ERR_MODEL_MISMATCH,
                         "%s: tensor '%s': expected dtype F32, got %s (re-export the checkpoint "
                         "in float32)",
                         path, t->name, lac_dtype_name(t->dtype));
      break;
    }
    int same = t->ndim == d->ndim;
    for (int k = 0; same && k < d->ndim; k++) same = t->shape[k] == d->shape[k];
    if (!same) {
      shape_str(a, sizeof a, d->ndim, d->shape);
      shape_str(b, sizeof b, t->ndim, t->shape);
      st = lac_error_set(err, LAC_ERR_MODEL_MISMATCH,
                         "%s: tensor '%s': expected shape %s, got %s (metadata and weights "
                         "disagree: check lac.arch.* in the file)",
                         path, t->name, a, b);
      break;
    }
    float *dst = m->params + d->offset;
    memcpy(dst, t->data, t->n_bytes);
    for (size_t k = 0; k < d->numel; k++)
      if (!isfinite(dst[k])) {
        st = lac_error_set(err, LAC_ERR_NUMERIC,
                           "%s: tensor '%s' holds a non-finite value at element %zu: the model "
                           "is corrupt or training diverged",
                           path, t->name, k);
        break;
      }
    seen[d - m->table] = 1;
  }
  if (st == LAC_OK) {
    size_t missing = 0, first = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
      if (!seen[i] && missing++ == 0) first = i;
    if (missing) {
      shape_str(a, sizeof a, m->table[first].ndim, m->table[first].shape);
      st = lac_error_set(err, LAC_ERR_MODEL_MISMATCH,
                         "%s: %zu expected tensor%s missing, first '%s' (expected shape %s)", path,
                         missing, missing > 1 ? "s are" : " is", m->table[first].name, a);
    }
  }
  free(seen);
  return st;
}

lac_status lac_model_load(lac_backend *backend, const char *path, lac_model **out,
                          lac_error *err) {
  if (!out || !path) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_model_load: NULL argument");
  *out = NULL;
  lac_st_file *f;
  lac_status st = lac_st_read(path, &f, err);
  if (st != LAC_OK) return st;
  lac_arch arch;
  lac_model *m = NULL;
  if ((st = lac_arch_from_meta(f, path, &arch, err)) != LAC_OK ||
      (st = model_alloc(backend, &arch, &m, err)) != LAC_OK ||
      (st = load_tensors(m, f, path, err)) != LAC_OK)
    goto fail;
  for (size_t i = 0; i < lac_st_meta_count(f); i++) {
    const char *k = lac_st_meta_key(f, i);
    if (!strncmp(k, "lac.arch.", 9) || !strcmp(k, "lac.format") || !strcmp(k, "lac.version"))
      continue;
    if ((st = lac_model_meta_set(m, k, lac_st_meta_value(f, i), err)) != LAC_OK) goto fail;
  }
  if ((st = fold(m, err)) != LAC_OK) goto fail;
  compute_id(m);
  lac_st_free(f);
  lac_log(backend, LAC_LOG_INFO, "loaded %s: %s, %zu tensors, id %s", path,
          lac_trunk_name(arch.trunk), m->n_tensors, m->id);
  *out = m;
  return LAC_OK;
fail:
  lac_model_free(m);
  lac_st_free(f);
  return st;
}

lac_status lac_model_save(const lac_model *m, const char *path, lac_error *err) {
  if (!m || !path) return lac_error_set(err, LAC_ERR_INVALID_ARG, "lac_model_save: NULL argument");
  lac_st_writer *w;
  lac_status st = lac_st_writer_new(&w, err);
  if (st != LAC_OK) return st;
  if ((st = lac_arch_to_meta(&m->arch, w, err)) != LAC_OK) goto done;
  for (size_t i = 0; i < m->n_meta; i++)
    if ((st = lac_st_writer_meta(w, m->meta_keys[i], m->meta_values[i], err)) != LAC_OK) goto done;
  for (size_t i = 0; i < m->n_tensors; i++) {
    const lac_tensor_desc *d = &m->table[i];
    if ((st = lac_st_writer_add(w, d->name, LAC_DTYPE_F32, d->ndim, d->shape,
                                m->params + d->offset, err)) != LAC_OK)
      goto done;
  }
  for (size_t i = 0; i < m->n_extras; i++) {
    const lac_extra_tensor *e = &m->extras[i];
    if ((st = lac_st_writer_add(w, e->name, LAC_DTYPE_F32, e->ndim, e->shape, e->data, err)) !=
        LAC_OK)
      goto done;
  }
  st = lac_st_writer_write(w, path, err);
done:
  lac_st_writer_free(w);
  return st;
}

/* ---------------------------------------------------------------- accessors */

const lac_arch *lac_model_arch(const lac_model *m) { return &m->arch; }

size_t lac_model_n_params(const lac_model *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_tensors; i++)
    if (m->table[i].kind == LAC_T_PARAM) n += m->table[i].numel;
  return n;
}

size_t lac_model_n_tensors(const lac_model *m) { return m->n_tensors; }
const char *lac_model_id(const lac_model *m) { return m->id; }
size_t lac_model_meta_count(const lac_model *m) { return m->n_meta; }
const char *lac_model_meta_key(const lac_model *m, size_t i) {
  return i < m->n_meta ? m->meta_keys[i] : NULL;
}
const char *lac_model_meta_value(const lac_model *m, size_t i) {
  return i < m->n_meta ? m->meta_values[i] : NULL;
}
const char *lac_model_meta_get(const lac_model *m, const char *key) {
  for (size_t i = 0; i < m->n_meta; i++)
    if (strcmp(m->meta_keys[i], key) == 0) return m->meta_values[i];
  return NULL;
}

const float *lac_model_tensor(const lac_model *m, const char *name, int *ndim, int64_t shape[8]) {
  const lac_tensor_desc *d = lac_model_find(m, name);
  if (d) {
    if (ndim) *ndim = d->ndim;
    if (shape) memcpy(shape, d->shape, sizeof(int64_t) * LAC_ST_MAX_DIMS);
    return m->params + d->offset;
  }
  for (size_t i = 0; i < m->n_extras; i++)
    if (strcmp(m->extras[i].name, name) == 0) {
      if (ndim) *ndim = m->extras[i].ndim;
      if (shape) memcpy(shape, m->extras[i].shape, sizeof(int64_t) * LAC_ST_MAX_DIMS);
      return m->extras[i].data;
    }
  return NULL;
}
