/* msb_lwip_hooks.h: declarations of the hooks lwipopts.h wires into lwIP (implemented in
 * stack/lwip_port.cc and stack/ip4_input.cc). Included by lwIP's own sources. */
#ifndef MSB_STACK_MSB_LWIP_HOOKS_H_
#define MSB_STACK_MSB_LWIP_HOOKS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
struct pbuf;
struct netif;
/* Returns non-zero when the packet was consumed (lwIP must not touch it again). */
int msb_lwip_ip4_input_hook(struct pbuf* p, struct netif* inp);
int msb_lwip_ip6_input_hook(struct pbuf* p, struct netif* inp);
uint32_t msb_lwip_tcp_isn(void);
#ifdef __cplusplus
}
#endif

#endif /* MSB_STACK_MSB_LWIP_HOOKS_H_ */
