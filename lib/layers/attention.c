/* attention.c — multi-head self-attention and the post-norm transformer encoder layer
 * (PyTorch nn.MultiheadAttention / nn.TransformerEncoderLayer in eval mode, ReLU, no
 * dropout), over one sequence x[s][d].  per_token = 1 reproduces the reference code's
 * attention in which every token sees only itself, so the attention output is the value
 * projection alone.
 * Not here: masks, cross-attention, backward. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

size_t lac_mha_ws_floats(int s, int d) {
  return (size_t)s * 3 * d + (size_t)s * s + (size_t)s * d;
}

void lac_mha(const lac_tlayer *t, const float *x, int s, int per_token, float *y, float *ws) {
  const int d = t->d, nh = t->n_heads, dh = d / nh;
  float *qkv = ws;                        /* [s][3d] */
  float *scores = qkv + (size_t)s * 3 * d; /* [s][s] */
  float *attn = scores + (size_t)s * s;   /* [s][d] */
  if (per_token) {
    /* softmax over one key is 1: the output is out_proj(v) */
    lac_linear(x, s, d, t->in_w + (size_t)2 * d * d, t->in_b + 2 * d, d, attn, 0);
  } else {
    lac_linear(x, s, d, t->in_w, t->in_b, 3 * d, qkv, 0);
    const float scale = 1.0f / sqrtf((float)dh);
    for (int h = 0; h < nh; h++) {
      const float *q = qkv + h * dh, *k = qkv + d + h * dh, *v = qkv + 2 * d + h * dh;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s, s, dh, scale, q, 3 * d, k, 3 * d,
                  0.f, scores, s);
      for (int i = 0; i < s; i++) {
        float *row = scores + (size_t)i * s;
        float m = row[0];
        for (int j = 1; j < s; j++) m = row[j] > m ? row[j] : m;
        float sum = 0.f;
        for (int j = 0; j < s; j++) {
          row[j] = expf(row[j] - m);
          sum += row[j];
        }
        const float inv = 1.f / sum;
        for (int j = 0; j < s; j++) row[j] *= inv;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s, dh, s, 1.f, scores, s, v, 3 * d,
                  0.f, attn + h * dh, d);
    }
  }
  lac_linear(attn, s, d, t->out_w, t->out_b, d, y, 0);
}

void lac_mha_naive(const lac_tlayer *t, const float *x, int s, int per_token, float *y) {
  const int d = t->d, nh = t->n_heads, dh = d / nh;
  double *qkv = malloc(sizeof(double) * (size_t)s * 3 * d);
  double *attn = calloc((size_t)s * d, sizeof(double));
  double *p = malloc(sizeof(double) * (size_t)s);
  if (!qkv || !attn || !p) goto out;
  for (int i = 0; i < s; i++)
    for (int o = 0; o < 3 * d; o++) {
      double acc = t->in_b[o];
      for (int c = 0; c < d; c++) acc += (double)x[(size_t)i * d + c] * t->in_w[(size_t)o * d + c];
      qkv[(size_t)i * 3 * d + o] = acc;
    }
  for (int h = 0; h < nh; h++)
    for (int i = 0; i < s; i++) {
      const int j0 = per_token ? i : 0, j1 = per_token ? i + 1 : s;
      double m = -INFINITY, sum = 0;
      for (int j = j0; j < j1; j++) {
        double a = 0;
        for (int c = 0; c < dh; c++)
          a += qkv[(size_t)i * 3 * d + h * dh + c] * qkv[(size_t)j * 3 * d + d + h * dh + c];
        p[j] = a / sqrt((double)dh);
        if (p[j] > m) m = p[j];
      }
      for (int j = j0; j < j1; j++) sum += (p[j] = exp(p[j] - m));
      for (int j = j0; j < j1; j++)
        for (int c = 0; c < dh; c++)
          attn[(size_t)i * d + h * dh + c] += p[j] / sum * qkv[(size_t)j * 3 * d + 2 * d + h * dh + c];
    }
  for (int i = 0; i < s; i++)
    for (int o = 0; o < d; o++) {
      double acc = t->out_b[o];
      for (int c = 0; c < d; c++) acc += attn[(size_t)i * d + c] * t->out_w[(size_t)o * d + c];
      y[(size_t)i * d + o] = (float)acc;
    }
out:
  free(qkv);
  free(attn);
  free(p);
}

size_t lac_tlayer_ws_floats(int s, int d, int ff) {
  return lac_mha_ws_floats(s, d) + (size_t)s * d + (size_t)s * ff;
}

void lac_tlayer_forward(const lac_tlayer *t, float *x, int s, int per_token, float *ws) {
  const int d = t->d;
  float *tmp = ws;                          /* [s][d] */
  float *hid = tmp + (size_t)s * d;         /* [s][ff] */
  float *mws = hid + (size_t)s * t->ff;     /* attention workspace */
  lac_mha(t, x, s, per_token, tmp, mws);
  for (size_t i = 0; i < (size_t)s * d; i++) x[i] += tmp[i];
  lac_layernorm(x, s, d, t->n1_w, t->n1_b, 1e-5f);
  lac_linear(x, s, d, t->l1_w, t->l1_b, t->ff, hid, 1);
  lac_linear(hid, s, t->ff, t->l2_w, t->l2_b, d, tmp, 0);
  for (size_t i = 0; i < (size_t)s * d; i++) x[i] += tmp[i];
  lac_layernorm(x, s, d, t->n2_w, t->n2_b, 1e-5f);
}
