/* libFuzzer entry point: the "trunc" target of fuzz.c (see fuzz.h). */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return fz_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(&fz_targets[5], data, size);
    return 0;
}
