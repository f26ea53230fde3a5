#ifndef MAILTRUST_VERSION_H
#define MAILTRUST_VERSION_H
#include <mailtrust/common.h>
#ifdef __cplusplus
extern "C" {
#endif

#define MT_VERSION_MAJOR 0
#define MT_VERSION_MINOR 1
#define MT_VERSION_PATCH 0
#define MT_VERSION_STRING "0.1.0"

/* The version of the library actually linked, e.g. "0.1.0". */
MT_EXPORT const char *mt_version(void);

#ifdef __cplusplus
}
#endif
#endif
