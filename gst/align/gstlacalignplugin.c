/* gstlacalignplugin.c — the "lacalign" plugin: registers the lacalign element
 * (gstlacalign.c).  Nothing else lives here. */
#include <gst/gst.h>

#include "gstlacalign.h"

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(lacalign, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, lacalign,
                  "Aligns a video's LAC embeddings against a reference (LAC)", plugin_init,
                  LAC_PLUGIN_VERSION, "MIT/X11", "lac", "the lac source tree")
