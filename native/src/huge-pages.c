/*
 * Transparent huge pages for big, once-allocated ArrayBuffers. With THP in `madvise` mode a
 * buffer's first touch costs one page fault per 4 KiB; advised, one per 2 MiB. Node
 * allocates a big ArrayBuffer with calloc, which glibc serves from a fresh mmap (above its
 * mmap threshold), so the pages are still untouched here and MADV_HUGEPAGE (which never
 * discards contents) only changes how they will be faulted in. Only whole 2 MiB pages
 * inside the buffer are advised: the memory around it is not ours. Failing advice (a kernel
 * without THP) is not an error: the buffer works as before.
 */
#include "huge-pages.h"

#include <stdint.h>
#include <sys/mman.h>

#include "errors.h"

#define HUGE_PAGE_BYTES ((uintptr_t)2 << 20)

napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_array_buffer = false;
  if (argv[0] != NULL) NAPI_CALL(env, napi_is_arraybuffer(env, argv[0], &is_array_buffer));
  if (!is_array_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "adviseHugePages(buffer): buffer must be an ArrayBuffer");
    return NULL;
  }
  void *data = NULL;
  size_t length = 0;
  NAPI_CALL(env, napi_get_arraybuffer_info(env, argv[0], &data, &length));
  uintptr_t start = ((uintptr_t)data + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
  uintptr_t end = ((uintptr_t)data + length) & ~(HUGE_PAGE_BYTES - 1);
  size_t advised = 0;
  if (data != NULL && end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) == 0) advised = end - start;
  napi_value result;
  NAPI_CALL(env, napi_create_double(env, (double)advised, &result));
  return result;
}
