/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright (C) 2026 The gst-ecg authors
 */
#ifndef __GST_CSV_ECG_SRC_H__
#define __GST_CSV_ECG_SRC_H__

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_CSV_ECG_SRC (gst_csv_ecg_src_get_type ())
G_DECLARE_FINAL_TYPE (GstCsvEcgSrc, gst_csv_ecg_src, GST, CSV_ECG_SRC,
    GstPushSrc);

GST_ELEMENT_REGISTER_DECLARE (csvecgsrc);

G_END_DECLS

#endif /* __GST_CSV_ECG_SRC_H__ */
