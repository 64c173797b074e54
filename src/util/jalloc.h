/*
 * jalloc.h - jansson's allocator in the attn binary: small blocks are kept on
 * per-thread free lists instead of going back to malloc.
 *
 * An evaluation builds and frees a few thousand small JSON values per PR on
 * each worker thread. glibc keeps only 7 freed blocks per size and thread;
 * the rest went back to the shared arena, where frees took its lock and
 * large requests made it consolidate its bins (profile: malloc and free were
 * 16-20% of an eval). Here a thread keeps up to ATTN_JALLOC_KEEP freed
 * blocks of each 16-byte size class up to ATTN_JALLOC_MAX bytes.
 *
 * The blocks are plain malloc blocks without a header: a block's class comes
 * from malloc_usable_size, so what jansson hands out (json_dumps' text) can
 * still be freed with free(). A thread's cache is freed when the thread
 * exits; the main thread calls attn_jalloc_thread_release before it returns.
 *
 * Only main() installs it, and not in an AddressSanitizer build, whose
 * use-after-free checks would miss a block reused from a free list.
 */
#ifndef ATTN_UTIL_JALLOC_H
#define ATTN_UTIL_JALLOC_H

#include <stddef.h>

#define ATTN_JALLOC_MAX 512      /* larger blocks go straight to malloc/free */
#define ATTN_JALLOC_KEEP 1024    /* freed blocks kept per class and thread (at
                                    most 1024 * 16 * (1 + ... + 32) = 8.6 MiB) */

/* Make attn_jalloc_malloc/free jansson's allocator. Call once, from main
 * (a value made before is a malloc block too, which it frees as well). */
void attn_jalloc_install(void);

/* The allocator itself (exposed for tests). */
void *attn_jalloc_malloc(size_t n);
void attn_jalloc_free(void *p);

/* Free the blocks the calling thread keeps. */
void attn_jalloc_thread_release(void);

/* How many freed blocks the calling thread keeps in the class of a request
 * of `size` bytes, or in all classes when size is 0 (tests). */
size_t attn_jalloc_thread_kept(size_t size);

#endif
