/* gstlacsynth.c — the "lacsynth" plugin: registers lacsynthsrc (gstlacsynthsrc.c).
 * Nothing else lives here. */
#include <gst/gst.h>

#include "gstlacsynthsrc.h"

static gboolean plugin_init(GstPlugin *plugin) {
  return GST_ELEMENT_REGISTER(lacsynthsrc, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, lacsynth,
                  "Procedural phase-labelled action videos (LAC)", plugin_init, LAC_PLUGIN_VERSION,
                  "MIT/X11", "lac", "the lac source tree")
