/* device_api.c - the Halide device API a GPU model library hands libvitrt.
 *
 * libvitrt depends on libc only, so it reaches the GPU through the Halide
 * runtime linked into the model library: this table of that runtime's device
 * functions, for one GPU API. VITC_DEVICE_API names the API as Halide spells
 * it (cuda, opencl); it selects the device interface by token pasting
 * (halide_cuda_device_interface) and is the table's name string.
 *
 * vitc compiles it into the model description's object after
 * "#define VITC_DEVICE_API <api>" (see Emit.cpp), where the table stays
 * static, so models for different APIs link into one program.
 */

#ifndef VITC_DEVICE_API
#error "define VITC_DEVICE_API as the Halide GPU API (cuda, opencl)"
#endif

#include "vitrt_model.h"

#define VITC_PASTE3(a, b, c) a##b##c
#define VITC_EXPAND_PASTE3(a, b, c) VITC_PASTE3(a, b, c)
#define VITC_STRING(x) #x
#define VITC_EXPAND_STRING(x) VITC_STRING(x)
#define VITC_DEVICE_INTERFACE                                                  \
  VITC_EXPAND_PASTE3(halide_, VITC_DEVICE_API, _device_interface)

struct halide_buffer_t;
struct halide_device_interface_t;
extern const struct halide_device_interface_t *VITC_DEVICE_INTERFACE(void);
extern int halide_copy_to_device(void *, struct halide_buffer_t *,
                                 const struct halide_device_interface_t *);
extern int halide_copy_to_host(void *, struct halide_buffer_t *);
extern int halide_device_malloc(void *, struct halide_buffer_t *,
                                const struct halide_device_interface_t *);
extern int halide_device_free(void *, struct halide_buffer_t *);
extern int halide_device_sync(void *, struct halide_buffer_t *);
extern void halide_device_release(void *,
                                  const struct halide_device_interface_t *);
extern void halide_set_gpu_device(int);
extern int halide_reuse_device_allocations(void *, _Bool);

static const vitrt_device_api device_api = {
    VITC_EXPAND_STRING(VITC_DEVICE_API),
    VITC_DEVICE_INTERFACE,
    halide_copy_to_device,
    halide_copy_to_host,
    halide_device_malloc,
    halide_device_free,
    halide_device_sync,
    halide_device_release,
    halide_set_gpu_device,
    halide_reuse_device_allocations,
};
