/* classify.c - a C program that links a ViT compiled by vitc.
 *
 * Built by examples/CMakeLists.txt, where vit_add_model() compiles the model
 * into libtiny_vit.a + tiny_vit.h + tiny_vit.safetensors. Usage:
 *
 *   classify WEIGHTS IMAGES.npy      (float32 [batch, C, H, W], C order)
 *
 * Prints the three best classes of every image. */
#include "tiny_vit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a little-endian float32 .npy array of `expected` floats per image;
 * returns the number of images, or -1. */
static long read_npy(const char *path, size_t per_image, float **data) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  unsigned char head[10];
  long images = -1;
  if (fread(head, 1, 10, f) == 10 && memcmp(head, "\x93NUMPY\x01", 7) == 0) {
    size_t header_len = head[8] | (size_t)head[9] << 8;
    char *header = calloc(header_len + 1, 1);
    if (header && fread(header, 1, header_len, f) == header_len &&
        strstr(header, "'<f4'") && strstr(header, "'fortran_order': False")) {
      const char *shape = strstr(header, "'shape': (");
      long batch = shape ? strtol(shape + 10, NULL, 10) : 0;
      size_t count = (size_t)batch * per_image;
      *data = batch > 0 ? malloc(count * sizeof(float)) : NULL;
      if (*data && fread(*data, sizeof(float), count, f) == count)
        images = batch;
    }
    free(header);
  }
  fclose(f);
  return images;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s WEIGHTS IMAGES.npy\n", argv[0]);
    return 2;
  }
  vitrt_model *model = NULL;
  vitrt_context *context = NULL;
  vitrt_model_info info;
  if (vitrt_open(tiny_vit_model(), argv[1], NULL, &model) != VITRT_OK ||
      vitrt_context_create(model, &context) != VITRT_OK ||
      vitrt_get_info(model, &info) != VITRT_OK) {
    fprintf(stderr, "classify: %s\n", vitrt_last_error());
    vitrt_close(model);
    return 1;
  }
  size_t per_image = (size_t)info.channels * info.height * info.width;
  float *images = NULL;
  long batch = read_npy(argv[2], per_image, &images);
  if (batch < 0) {
    fprintf(stderr, "classify: %s is not a float32 [batch, %d, %d, %d] .npy array\n", argv[2],
            info.channels, info.height, info.width);
    return 1;
  }
  float *logits = malloc((size_t)batch * info.outputs * sizeof(float));
  if (vitrt_run(context, images, (size_t)batch * per_image, batch, logits,
                (size_t)batch * info.outputs) != VITRT_OK) {
    fprintf(stderr, "classify: %s\n", vitrt_last_error());
    return 1;
  }
  for (long b = 0; b < batch; ++b) {
    const float *row = logits + b * info.outputs;
    printf("image %ld:", b);
    int used[3] = {-1, -1, -1};
    for (int k = 0; k < 3 && k < info.outputs; ++k) {
      int best = -1;
      for (int c = 0; c < info.outputs; ++c)
        if (c != used[0] && c != used[1] && (best < 0 || row[c] > row[best]))
          best = c;
      used[k] = best;
      printf(" class %d (%.3f)", best, row[best]);
    }
    printf("\n");
  }
  free(logits);
  free(images);
  vitrt_context_destroy(context);
  vitrt_close(model);
  return 0;
}
