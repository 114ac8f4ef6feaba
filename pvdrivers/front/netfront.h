/* netfront for test guests: netif TX and RX rings in copy mode, one event channel, frames sent
 * from and received into the caller's buffers. */
#ifndef PVFRONT_NETFRONT_H
#define PVFRONT_NETFRONT_H

#include "front_ring.h"
#include "xenbus_front.h"
#include <xen/io/netif.h>

/* Buffers of one page each, granted to the back-end for as long as the device is open: RX
 * buffers stay posted (re-posted once read), TX buffers hold a frame's slots until their
 * response. */
#define NETFRONT_RX_BUFS 32
#define NETFRONT_TX_BUFS 16
#define NETFRONT_MAX_FRAME 0xffff	/* XEN_NETIF_MAX_TX_SIZE */
#define NETFRONT_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, FRONT_PAGE_SIZE)

struct netfront {
	struct xenbus_front xb;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	grant_ref_t tx_ring_ref, rx_ring_ref;
	evtchn_port_t port;
	uint8_t mac[6];
	bool feature_sg;	/* the back-end takes frames of several TX slots */
	uint8_t *rx_buf[NETFRONT_RX_BUFS];
	grant_ref_t rx_ref[NETFRONT_RX_BUFS];
	uint8_t *tx_buf[NETFRONT_TX_BUFS];
	grant_ref_t tx_ref[NETFRONT_TX_BUFS];
	uint16_t tx_free[NETFRONT_TX_BUFS];	/* a stack of free TX buffer ids */
	unsigned int tx_nfree;
	uint32_t tx_busy;			/* bit per TX buffer awaiting its response */
	/* Which RX buffer the request at each ring index carries: a response (or an extra-info
	 * slot, which has no id) uses the buffer of the request at its index. */
	uint8_t rx_posted[NETFRONT_RX_RING_SIZE];
	/* Flags (NETRXF_*) of the first slot of the last frame received. */
	uint16_t last_rx_flags;
	uint64_t tx_frames, rx_frames, tx_errors, rx_errors, kicks;
};

/* Connects to device/vif/<devid> (XBF_FIRST_DEVICE: the first): reads `mac`, sets up and grants
 * both rings and the buffers, posts every RX buffer, publishes tx-ring-ref, rx-ring-ref,
 * event-channel, request-rx-copy=1, feature-rx-notify=1, feature-sg=1, and connects. Needs the
 * back-end's feature-rx-copy. */
int netfront_open(struct netfront *nf, unsigned int devid);

/* Sends one Ethernet frame (14..NETFRONT_MAX_FRAME bytes; more than a page only with the
 * back-end's feature-sg): copied into TX buffers, one slot per page. Waits for free buffers
 * if needed. 0, or a negative Xen errno. */
int netfront_send(struct netfront *nf, const void *frame, size_t len);

/* Receives the next frame into buf: returns its length (only `size` bytes are copied when it
 * is longer), -XEN_ETIMEDOUT after timeout_ms without one, -XEN_EIO for a broken back-end.
 * Frames with an error status are counted and skipped. */
int netfront_recv(struct netfront *nf, void *buf, size_t size, uint32_t timeout_ms);

/* Closes the device, then ends every grant and closes the port. */
int netfront_close(struct netfront *nf);

#endif
