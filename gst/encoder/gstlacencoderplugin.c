/* gstlacencoderplugin.c — the "lacencoder" plugin: registers the lacencoder element
 * (gstlacencoder.c).  Nothing else lives here; the shared-model cache is gstlacmodelcache.c.
 */
#include <gst/gst.h>

#include "gstlacencoder.h"

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(lacencoder, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, lacencoder,
                  "Frame-wise LAC video embeddings attached to video buffers", plugin_init,
                  LAC_PLUGIN_VERSION, "MIT/X11", "lac", "the lac source tree")
