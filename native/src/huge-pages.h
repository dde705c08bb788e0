#ifndef SYNSCOPE_HUGE_PAGES_H
#define SYNSCOPE_HUGE_PAGES_H

#include <node_api.h>

/* adviseHugePages(arrayBuffer): madvise(MADV_HUGEPAGE) on its whole 2 MiB pages; returns the bytes advised. */
napi_value advise_huge_pages(napi_env env, napi_callback_info info);

#endif
