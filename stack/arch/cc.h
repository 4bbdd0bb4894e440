/* arch/cc.h: lwIP's compiler/platform glue for Linux with GCC or clang. */
#ifndef MSB_STACK_ARCH_CC_H_
#define MSB_STACK_ARCH_CC_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif
uint32_t msb_lwip_rand(void);
#ifdef __cplusplus
}
#endif

#define LWIP_RAND() msb_lwip_rand()
#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    printf x;                 \
  } while (0)
/* An lwIP assertion is a broken invariant inside the stack, never a reaction to input: abort. */
#define LWIP_PLATFORM_ASSERT(x)                                                          \
  do {                                                                                   \
    fprintf(stderr, "msb-gateway: lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, \
            __LINE__);                                                                   \
    abort();                                                                             \
  } while (0)

/* Byte order through compiler builtins, and without lwIP's htons/ntohs macros, which would clash
 * with the system headers. */
#define lwip_htons(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define lwip_ntohs(x) lwip_htons(x)
#define lwip_htonl(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))
#define lwip_ntohl(x) lwip_htonl(x)

#endif /* MSB_STACK_ARCH_CC_H_ */
