/* DeviceApiTest.c - runtime/model/device_api.c expanded for one GPU API.
 *
 * Built once per API (VITC_DEVICE_API=cuda, =opencl) with stubs of the
 * Halide runtime functions: the table must carry the API's name and point at
 * that API's device interface and at the generic device functions, in the
 * order vitrt_model.h declares them. A wrong token paste fails to link.
 */

#include "device_api.c"

#include <stdio.h>
#include <string.h>

static int cuda_interface, opencl_interface;
const struct halide_device_interface_t *halide_cuda_device_interface(void) {
  return (const struct halide_device_interface_t *)&cuda_interface;
}
const struct halide_device_interface_t *halide_opencl_device_interface(void) {
  return (const struct halide_device_interface_t *)&opencl_interface;
}
int halide_copy_to_device(void *u, struct halide_buffer_t *b,
                          const struct halide_device_interface_t *i) {
  (void)u, (void)b, (void)i;
  return 1;
}
int halide_copy_to_host(void *u, struct halide_buffer_t *b) {
  (void)u, (void)b;
  return 2;
}
int halide_device_malloc(void *u, struct halide_buffer_t *b,
                         const struct halide_device_interface_t *i) {
  (void)u, (void)b, (void)i;
  return 3;
}
int halide_device_free(void *u, struct halide_buffer_t *b) {
  (void)u, (void)b;
  return 4;
}
int halide_device_sync(void *u, struct halide_buffer_t *b) {
  (void)u, (void)b;
  return 5;
}
void halide_device_release(void *u, const struct halide_device_interface_t *i) {
  (void)u, (void)i;
}
void halide_set_gpu_device(int device) { (void)device; }
int halide_reuse_device_allocations(void *u, _Bool reuse) {
  (void)u, (void)reuse;
  return 6;
}

static int failures;
static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "device_api.c for %s: %s\n", VITC_TEST_EXPECTED_API, what);
    ++failures;
  }
}

int main(void) {
  int cuda = strcmp(VITC_TEST_EXPECTED_API, "cuda") == 0;
  check(strcmp(device_api.name, VITC_TEST_EXPECTED_API) == 0,
        "the table's name is not the API's");
  check(device_api.interface() ==
            (const struct halide_device_interface_t *)(cuda
                                                           ? &cuda_interface
                                                           : &opencl_interface),
        "the table's device interface is another API's");
  check(device_api.copy_to_device(0, 0, 0) == 1, "copy_to_device");
  check(device_api.copy_to_host(0, 0) == 2, "copy_to_host");
  check(device_api.device_malloc(0, 0, 0) == 3, "device_malloc");
  check(device_api.device_free(0, 0) == 4, "device_free");
  check(device_api.device_sync(0, 0) == 5, "device_sync");
  check(device_api.device_release == halide_device_release, "device_release");
  check(device_api.set_gpu_device == halide_set_gpu_device, "set_gpu_device");
  check(device_api.reuse_device_allocations(0, 1) == 6,
        "reuse_device_allocations");
  if (!failures)
    printf("device_api.c for %s: table as expected\n", device_api.name);
  return failures != 0;
}
