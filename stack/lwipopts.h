/* lwipopts.h: msb-gateway's lwIP 2.1.3 configuration (NO_SYS=1, raw API, one netif facing the
 * guest). See docs/architecture.md "lwIP" and ../shared notes for why each non-default value is
 * set. Only stack/ compiles against this file. */
#ifndef MSB_STACK_LWIPOPTS_H_
#define MSB_STACK_LWIPOPTS_H_

/* One event-loop thread owns the stack: no OS layer, no locking, raw API only. */
#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_SINGLE_NETIF 1

/* Memory comes from the C heap; every MEMP_NUM_* limit is therefore void and the gateway caps
 * connections and buffers itself (max connections, TCP windows, queue bounds). */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* Protocols. IPv6 is compiled in (the VM front-end issue configures it); IPV6_FRAG_COPYHEADER must
 * be 1 on 64-bit hosts or lwIP asserts at start-up. */
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define IPV6_FRAG_COPYHEADER 1
#define LWIP_IPV6_AUTOCONFIG 0
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_ND6_ALLOW_RA_UPDATES 0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
/* The gateway joins no multicast group beyond what ND needs (solicited-node, checked against its
 * own addresses without MLD) and sends no MLD reports. */
#define LWIP_IPV6_MLD 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_QUEUEING 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_STATS 0
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* Do not fingerprint the gateway with lwIP's default TTL of 255. */
#define IP_DEFAULT_TTL 64
#define TCP_TTL 64
#define UDP_TTL 64

/* Fragments: reassemble guest datagrams (the input hook calls ip4_reass for foreign destinations)
 * and fragment large UDP replies. */
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 128
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1

/* TCP. TCP_MSS is the ceiling; the effective MSS follows the netif MTU (up to 65520), which needs
 * the sanity checks off. Windows are scaled; the send buffer stays at 256 KiB because lwIP walks
 * its send queue linearly. Half-open connections are bounded by the gateway, not a backlog. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define TCP_MSS 65480
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 7
#define TCP_WND (256 * 1024)
#define TCP_SND_BUF (256 * 1024)
#define TCP_SND_QUEUELEN 1024
#define TCP_SNDQUEUELOWAT 512
#define TCP_SNDLOWAT (64 * 1024)
#define TCP_WND_UPDATE_THRESHOLD (32 * 1024)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_BYTES (256 * 1024)
#define TCP_OOSEQ_MAX_PBUFS 256
#define TCP_LISTEN_BACKLOG 0
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_TCP_PCB_NUM_EXT_ARGS 2 /* GuestTcp, PcbIndex */
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_CALLBACK_API 1

/* Our hooks: the IPv4 input hook terminates TCP/UDP to any destination; random ISNs. */
#define LWIP_HOOK_FILENAME "msb_lwip_hooks.h"
#define LWIP_HOOK_IP4_INPUT(pbuf, input_netif) msb_lwip_ip4_input_hook((pbuf), (input_netif))
#define LWIP_HOOK_IP6_INPUT(pbuf, input_netif) msb_lwip_ip6_input_hook((pbuf), (input_netif))
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) msb_lwip_tcp_isn()

#endif /* MSB_STACK_LWIPOPTS_H_ */
