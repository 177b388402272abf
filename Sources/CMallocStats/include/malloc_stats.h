#ifndef LODE_MALLOC_STATS_H
#define LODE_MALLOC_STATS_H
#include <stddef.h>

/// glibc's heap figures, which Swift cannot read (malloc.h is not in its Glibc module).
/// Bytes handed out by the allocator and not freed: arenas' chunks plus mmapped ones.
size_t lode_heap_allocated(void);
/// Bytes the allocator holds from the system: arenas plus mmapped chunks.
size_t lode_heap_reserved(void);
/// malloc_trim(0): gives free pages back to the system.
void lode_heap_trim(void);

#endif
