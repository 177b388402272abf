#include "malloc_stats.h"
#include <malloc.h>

size_t lode_heap_allocated(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

size_t lode_heap_reserved(void) {
    struct mallinfo2 info = mallinfo2();
    return info.arena + info.hblkhd;
}

void lode_heap_trim(void) { malloc_trim(0); }
