/* lac-prelude.h — export macro of the gstlac-1.0 library (GstLac metas).
 *
 * Symbols marked GST_LAC_API are the library's public interface; everything else stays
 * hidden (the library is built with -fvisibility=hidden).
 */
#ifndef __GST_LAC_PRELUDE_H__
#define __GST_LAC_PRELUDE_H__

#include <gst/gst.h>

#ifdef BUILDING_GST_LAC
#define GST_LAC_API GST_API_EXPORT
#else
#define GST_LAC_API GST_API_IMPORT
#endif

#endif /* __GST_LAC_PRELUDE_H__ */
