/* lacmeta.h — all metas of the gstlac-1.0 library, in one include:
 * `#include <gst/lac/lacmeta.h>` (pkg-config gstlac-1.0).
 *
 * GstLacPhaseMeta: the phase label of a video frame (gstlacphasemeta.h).
 * GstLacEmbeddingMeta: the embedding of a video frame (gstlacembeddingmeta.h).
 * GObject introspection: namespace GstLac 1.0 (GstLac-1.0.typelib), see docs/metas.md.
 */
#ifndef __GST_LAC_META_H__
#define __GST_LAC_META_H__

#include <gst/lac/lac-prelude.h>
#include <gst/lac/gstlacphasemeta.h>
#include <gst/lac/gstlacembeddingmeta.h>

#endif /* __GST_LAC_META_H__ */
