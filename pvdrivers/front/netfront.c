/* netfront: ring and buffer setup, TX of a frame in page-sized slots, RX of whole frames with
 * their buffers re-posted. */
#include "netfront.h"

#include "grant.h"

#define TIMEOUT_MS 20000u
#define RX_MASK (NETFRONT_RX_RING_SIZE - 1)

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "00:16:3e:12:34:56" */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (unsigned int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int grant_pages(const struct netfront *nf, uint8_t **bufs, grant_ref_t *refs, unsigned int n,
		       bool readonly)
{
	for (unsigned int i = 0; i < n; i++) {
		if (!(bufs[i] = front_alloc_pages(1)))
			return -XEN_ENOMEM;
		int rc = gnt_grant(nf->xb.backend_id, front_virt_to_gfn(bufs[i]), readonly, &refs[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void post_rx(struct netfront *nf, uint8_t id)
{
	netif_rx_request_t *req = RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);
	req->id = id;
	req->gref = nf->rx_ref[id];
	nf->rx_posted[nf->rx.req_prod_pvt & RX_MASK] = id;
	nf->rx.req_prod_pvt++;
}

static int setup(struct netfront *nf)
{
	netif_tx_sring_t *txs = front_alloc_pages(1);
	netif_rx_sring_t *rxs = front_alloc_pages(1);
	if (!txs || !rxs)
		return -XEN_ENOMEM;
	SHARED_RING_INIT(txs);
	FRONT_RING_INIT(&nf->tx, txs, FRONT_PAGE_SIZE);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&nf->rx, rxs, FRONT_PAGE_SIZE);
	domid_t be = nf->xb.backend_id;
	int rc;
	if ((rc = gnt_grant(be, front_virt_to_gfn(txs), false, &nf->tx_ring_ref)) ||
	    (rc = gnt_grant(be, front_virt_to_gfn(rxs), false, &nf->rx_ring_ref)) ||
	    (rc = grant_pages(nf, nf->rx_buf, nf->rx_ref, NETFRONT_RX_BUFS, false)) ||
	    (rc = grant_pages(nf, nf->tx_buf, nf->tx_ref, NETFRONT_TX_BUFS, true)))
		return rc;
	for (unsigned int i = 0; i < NETFRONT_TX_BUFS; i++)
		nf->tx_free[nf->tx_nfree++] = (uint16_t)i;
	/* Posted before the back-end connects: it finds them when it maps the ring. */
	for (unsigned int i = 0; i < NETFRONT_RX_BUFS; i++)
		post_rx(nf, (uint8_t)i);
	RING_PUSH_REQUESTS(&nf->rx);
	return front_evtchn_alloc_unbound(be, &nf->port);
}

static int publish(void *arg, uint32_t tx)
{
	struct netfront *nf = arg;
	const struct xenbus_front *x = &nf->xb;
	int rc;
	if ((rc = xbf_write_uint(x, tx, "tx-ring-ref", nf->tx_ring_ref)) ||
	    (rc = xbf_write_uint(x, tx, "rx-ring-ref", nf->rx_ring_ref)) ||
	    (rc = xbf_write_uint(x, tx, "event-channel", nf->port)) ||
	    (rc = xbf_write(x, tx, "request-rx-copy", "1")) ||
	    (rc = xbf_write(x, tx, "feature-rx-notify", "1")) ||
	    (rc = xbf_write(x, tx, "feature-sg", "1")))
		return rc;
	return 0;
}

int netfront_open(struct netfront *nf, unsigned int devid)
{
	memset(nf, 0, sizeof(*nf));
	int rc = xbf_find(&nf->xb, "vif", devid);
	if (rc)
		return rc;
	char mac[24];
	if ((rc = xbf_read(&nf->xb, false, "mac", mac, sizeof(mac))))
		return rc;
	if (!parse_mac(mac, nf->mac)) {
		front_log("netfront %s: bad mac \"%s\"\n", nf->xb.node, mac);
		return -XEN_EINVAL;
	}
	int s = xbf_wait_backend(&nf->xb, XBF_STATE(XenbusStateInitWait), TIMEOUT_MS);
	if (s < 0)
		return s;
	if (!xbf_read_uint(&nf->xb, true, "feature-rx-copy", 0)) {
		front_log("netfront %s: the back-end does not offer feature-rx-copy\n", nf->xb.node);
		return -XEN_EOPNOTSUPP;
	}
	nf->feature_sg = xbf_read_uint(&nf->xb, true, "feature-sg", 0) != 0;
	if ((rc = setup(nf)) || (rc = xbf_connect(&nf->xb, publish, nf)))
		return rc;
	front_evtchn_send(nf->port);	/* as Linux after connecting: look at the rings */
	nf->kicks++;
	return 0;
}

/* Validates the back-end's producer index: never more responses than requests we made. */
static bool responses_sane(struct netfront *nf, RING_IDX prod, RING_IDX cons, RING_IDX req_prod)
{
	if (prod - cons <= req_prod - cons)
		return true;
	front_log("netfront %s: back-end's response index %u is past our requests (%u)\n",
		  nf->xb.node, prod, req_prod);
	return false;
}

/* Retires TX responses: their buffers become free. */
static int reap_tx(struct netfront *nf)
{
	RING_IDX rp = __atomic_load_n(&nf->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (!responses_sane(nf, rp, nf->tx.rsp_cons, nf->tx.req_prod_pvt))
		return -XEN_EIO;
	for (; nf->tx.rsp_cons != rp; nf->tx.rsp_cons++) {
		netif_tx_response_t r;
		RING_COPY_RESPONSE(&nf->tx, nf->tx.rsp_cons, &r);
		if (r.status == NETIF_RSP_NULL)
			continue;
		if (r.id >= NETFRONT_TX_BUFS || !(nf->tx_busy & (1u << r.id))) {
			front_log("netfront %s: TX response for unknown id %u\n", nf->xb.node, r.id);
			continue;
		}
		nf->tx_busy &= ~(1u << r.id);
		nf->tx_free[nf->tx_nfree++] = r.id;
		if (r.status != NETIF_RSP_OKAY)
			nf->tx_errors++;
	}
	return 0;
}

struct tx_need {
	struct netfront *nf;
	unsigned int slots;
};

static bool tx_room(void *arg)
{
	struct tx_need *n = arg;
	int more;
	RING_FINAL_CHECK_FOR_RESPONSES(&n->nf->tx, more);
	if (more && reap_tx(n->nf))
		return true;	/* broken: the caller sees it again */
	return n->nf->tx_nfree >= n->slots && RING_FREE_REQUESTS(&n->nf->tx) >= n->slots;
}

int netfront_send(struct netfront *nf, const void *frame, size_t len)
{
	unsigned int slots = (unsigned int)((len + FRONT_PAGE_SIZE - 1) / FRONT_PAGE_SIZE);
	if (len < 14 || len > NETFRONT_MAX_FRAME || slots > NETFRONT_TX_BUFS ||
	    (slots > 1 && !nf->feature_sg))
		return -XEN_EINVAL;
	int rc = reap_tx(nf);
	if (rc)
		return rc;
	struct tx_need need = {nf, slots};
	if (!front_wait(nf->port, tx_room, &need, TIMEOUT_MS))
		return -XEN_ETIMEDOUT;
	if (nf->tx_nfree < slots)
		return -XEN_EIO;
	const uint8_t *src = frame;
	size_t left = len;
	for (unsigned int i = 0; i < slots; i++) {
		uint16_t id = nf->tx_free[--nf->tx_nfree];
		size_t chunk = left < FRONT_PAGE_SIZE ? left : FRONT_PAGE_SIZE;
		memcpy(nf->tx_buf[id], src, chunk);
		netif_tx_request_t *req = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
		req->gref = nf->tx_ref[id];
		req->offset = 0;
		req->flags = i + 1 < slots ? NETTXF_more_data : 0;
		req->id = id;
		/* The first slot carries the frame's whole size, the others their own. */
		req->size = (uint16_t)(i == 0 ? len : chunk);
		nf->tx.req_prod_pvt++;
		nf->tx_busy |= 1u << id;
		src += chunk;
		left -= chunk;
	}
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
	if (notify) {
		front_evtchn_send(nf->port);
		nf->kicks++;
	}
	nf->tx_frames++;
	return 0;
}

static bool rx_pending(void *arg)
{
	struct netfront *nf = arg;
	int more;
	RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
	return more;
}

/* The ring index just past the frame that starts at rsp_cons, or rsp_cons when the back-end
 * has not produced all of its slots yet. Extra-info slots (*nextra of them, while their
 * XEN_NETIF_EXTRA_FLAG_MORE says so) follow the first slot, before the data slots that
 * NETRXF_more_data chains. */
static RING_IDX frame_end(struct netfront *nf, RING_IDX rp, unsigned int *nextra)
{
	RING_IDX i = nf->rx.rsp_cons;
	netif_rx_response_t r;
	RING_COPY_RESPONSE(&nf->rx, i, &r);
	i++;
	bool extra = r.flags & NETRXF_extra_info, more = r.flags & NETRXF_more_data;
	*nextra = 0;
	while (extra) {
		if (i == rp)
			return nf->rx.rsp_cons;
		struct netif_extra_info e;
		memcpy(&e, (const void *)RING_GET_RESPONSE(&nf->rx, i), sizeof(e));
		i++;
		++*nextra;
		extra = e.flags & XEN_NETIF_EXTRA_FLAG_MORE;
	}
	while (more) {
		if (i == rp)
			return nf->rx.rsp_cons;
		RING_COPY_RESPONSE(&nf->rx, i, &r);
		i++;
		more = r.flags & NETRXF_more_data;
	}
	return i;
}

/* Copies the frame's data slots out (up to `size` bytes) and posts every slot's buffer again;
 * returns the frame's length, or -XEN_EIO for a slot with an error status or bad bounds. */
static int take_frame(struct netfront *nf, RING_IDX end, unsigned int nextra, uint8_t *buf,
		      size_t size)
{
	size_t total = 0;
	bool error = false;
	unsigned int k = 0;
	for (RING_IDX i = nf->rx.rsp_cons; i != end; i++, k++) {
		uint8_t id = nf->rx_posted[i & RX_MASK];
		if (k == 0 || k > nextra) {
			netif_rx_response_t r;
			RING_COPY_RESPONSE(&nf->rx, i, &r);
			if (k == 0)
				nf->last_rx_flags = r.flags;
			if (r.status < 0 || r.offset + (unsigned int)r.status > FRONT_PAGE_SIZE) {
				error = true;
			} else {
				size_t n = (size_t)r.status;
				if (total < size)
					memcpy(buf + total, nf->rx_buf[id] + r.offset,
					       size - total < n ? size - total : n);
				total += n;
			}
		}
		post_rx(nf, id);
	}
	nf->rx.rsp_cons = end;
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
	if (notify) {
		front_evtchn_send(nf->port);
		nf->kicks++;
	}
	return error ? -XEN_EIO : (int)total;
}

int netfront_recv(struct netfront *nf, void *buf, size_t size, uint32_t timeout_ms)
{
	uint64_t deadline = front_now_ms() + timeout_ms;
	for (;;) {
		uint64_t now = front_now_ms();
		if (!front_wait(nf->port, rx_pending, nf, now < deadline ? (uint32_t)(deadline - now) : 0))
			return -XEN_ETIMEDOUT;
		if (reap_tx(nf))
			return -XEN_EIO;
		RING_IDX rp = __atomic_load_n(&nf->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
		if (!responses_sane(nf, rp, nf->rx.rsp_cons, nf->rx.req_prod_pvt))
			return -XEN_EIO;
		unsigned int nextra;
		RING_IDX end = frame_end(nf, rp, &nextra);
		if (end == nf->rx.rsp_cons) {
			if (front_now_ms() >= deadline)
				return -XEN_ETIMEDOUT;
			continue;	/* the rest of the frame is still coming */
		}
		int n = take_frame(nf, end, nextra, buf, size);
		if (n >= 0) {
			nf->rx_frames++;
			return n;
		}
		nf->rx_errors++;
	}
}

int netfront_close(struct netfront *nf)
{
	int rc = xbf_close(&nf->xb);
	unsigned int held = 0;
	held += gnt_end(nf->tx_ring_ref) != 0;
	held += gnt_end(nf->rx_ring_ref) != 0;
	for (unsigned int i = 0; i < NETFRONT_RX_BUFS; i++)
		held += gnt_end(nf->rx_ref[i]) != 0;
	for (unsigned int i = 0; i < NETFRONT_TX_BUFS; i++)
		held += gnt_end(nf->tx_ref[i]) != 0;
	if (held)
		front_log("netfront %s: %u grants still held after close\n", nf->xb.node, held);
	front_evtchn_close(nf->port);
	return rc ? rc : held ? -XEN_EBUSY : 0;
}
