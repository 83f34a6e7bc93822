/* scratch_allocator.c - the halide_malloc/halide_free of every model library.
 *
 * Kernels allocate the same scratch buffers (hidden activations, attention
 * scores) on every call. Halide's default halide_malloc returns them to the
 * OS each time, and the fresh pages then fault in again: measured as ~15% of
 * ViT-B/16 at batch 1. This replacement keeps up to 64 freed blocks for reuse
 * by a request of the same size, and frees the rest.
 *
 * Its definitions are weak, like Halide's own, so a program may still supply
 * its own allocator; a weak definition wins only if it is the first the
 * linker sees, which is why vitc compiles this file into the model
 * description's object (see Emit.cpp). It is compiled freestanding, with no
 * headers, so it declares what it uses from libc itself.
 */

extern void *malloc(unsigned long);
extern void free(void *);

#define VITC_CACHE_SLOTS 64
static struct {
  unsigned long size;
  void *block;
} vitc_cache[VITC_CACHE_SLOTS];

/* A spin lock: the critical sections are a scan of 64 slots, and the file is
 * compiled freestanding, without pthread.h. */
static volatile char vitc_cache_lock;
static void vitc_lock(void) {
  while (__atomic_test_and_set(&vitc_cache_lock, __ATOMIC_ACQUIRE)) {
  }
}
static void vitc_unlock(void) {
  __atomic_clear(&vitc_cache_lock, __ATOMIC_RELEASE);
}

__attribute__((weak)) void *halide_malloc(void *user_context,
                                          unsigned long size) {
  (void)user_context;
  void *block = 0;
  vitc_lock();
  for (int i = 0; i < VITC_CACHE_SLOTS; ++i)
    if (vitc_cache[i].block && vitc_cache[i].size == size) {
      block = vitc_cache[i].block;
      vitc_cache[i].block = 0;
      break;
    }
  vitc_unlock();
  if (!block) {
    /* 128-byte alignment, with the block's start and size just before it. */
    char *raw = (char *)malloc(size + 128 + 2 * sizeof(void *));
    if (!raw)
      return 0;
    char *aligned =
        (char *)(((unsigned long)raw + 2 * sizeof(void *) + 127) & ~127ul);
    ((void **)aligned)[-1] = raw;
    ((unsigned long *)aligned)[-2] = size;
    block = aligned;
  }
  return block;
}

__attribute__((weak)) void halide_free(void *user_context, void *block) {
  (void)user_context;
  if (!block)
    return;
  unsigned long size = ((unsigned long *)block)[-2];
  vitc_lock();
  for (int i = 0; i < VITC_CACHE_SLOTS; ++i)
    if (!vitc_cache[i].block) {
      vitc_cache[i].size = size;
      vitc_cache[i].block = block;
      block = 0;
      break;
    }
  vitc_unlock();
  if (block)
    free(((void **)block)[-1]);
}
