#ifndef LODE_CLMDB_SHIM_H
#define LODE_CLMDB_SHIM_H
#include <lmdb.h>
#endif
