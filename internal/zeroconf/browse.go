package zeroconf

import (
	"context"
	"net/netip"
	"strings"
	"time"
)

// maxFetches bounds the HOST_INFO fetches under way at once: a network
// announcing a thousand OSCQuery servers gets no thousand connections.
const maxFetches = 8

// maxQueryInterval caps the doubling interval of browsing's repeated
// questions (RFC 6762 §5.2: one hour).
const maxQueryInterval = time.Hour

// Browse reports the services of types on the machine's interfaces to fn
// until ctx is done, then returns ctx's error. It asks at once, again
// after 1 s, 2 s, 4 s and so on, keeps what it found alive by asking
// before it expires, and reports services that say goodbye or expire as
// Gone. An _oscjson._tcp service is reported once its HOST_INFO has been
// fetched, or has failed to be (HostInfoTimeout).
//
// When port 5353 cannot be shared (a program holds it alone), Browse asks
// from another port, where only the answers to its own questions arrive:
// services that come or go later are not seen, and Notice says so.
func (m *MDNS) Browse(ctx context.Context, types []string, fn func(Event)) error {
	all, err := m.interfaces()
	if err != nil {
		return err
	}
	ifs := multicastInterfaces(all)
	if len(ifs) == 0 {
		return ErrNoInterface
	}
	c, err := openConn(ifs, mdnsPort)
	if err != nil {
		var lerr error
		if c, lerr = openConn(ifs, 0); lerr != nil {
			return err
		}
		m.notice("UDP port 5353 is held by a program that does not share it (" + err.Error() + "); " +
			"asking from another port, so services that come or go later are not seen")
	}
	defer c.Close()
	local := interfaceAddrs(all)
	t := newTracker(types, func(a netip.Addr) bool { return local[a.WithZone("")] })
	t.full = func() {
		m.notice("over 1024 services or hosts on the network: the rest are ignored")
	}
	b := &browser{m: m, c: c, t: t, fn: fn, ctx: ctx,
		held: map[string]*held{}, infos: map[string]*fetched{}, results: make(chan fetchResult, 16),
		fetching: make(chan struct{}, maxFetches)}
	return b.run()
}

// browser is one Browse call's loop: it owns the tracker and calls fn.
type browser struct {
	m   *MDNS
	c   *conn
	t   *tracker
	fn  func(Event)
	ctx context.Context

	// held are _oscjson._tcp events waiting for their HOST_INFO, infos
	// the HOST_INFO last fetched per service, by Service.Key.
	held    map[string]*held
	infos   map[string]*fetched
	results chan fetchResult
	gen     int
	// fetching holds a token per HOST_INFO fetch under way.
	fetching chan struct{}
}

type held struct {
	ev     Event  // Found or Updated, the latest state
	to     string // where HOST_INFO is being asked for
	gen    int
	cancel context.CancelFunc
}

type fetched struct {
	from netip.AddrPort
	info *HostInfo
}

type fetchResult struct {
	key  string
	gen  int
	from netip.AddrPort
	info *HostInfo
}

func (b *browser) run() error {
	clk := b.m.Clock
	packets := make(chan packet, 64)
	done := make(chan struct{})
	defer close(done)
	go b.c.readLoop(packets, done)
	wake := make(chan struct{}, 1)
	timer := clk.AfterFunc(time.Hour, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer timer.Stop()
	interval := time.Second
	nextQuery := clk.Now()
	for {
		now := clk.Now()
		if !now.Before(nextQuery) {
			b.send(b.t.queries(now), 0)
			nextQuery = now.Add(interval)
			interval = min(2*interval, maxQueryInterval)
		}
		if at := b.t.next(); !at.IsZero() && !now.Before(at) {
			b.emit(b.t.expire(now))
			if qs := b.t.refresh(now); len(qs) > 0 {
				b.send(&message{Questions: qs}, 0)
			}
		}
		due := nextQuery
		if at := b.t.next(); !at.IsZero() && at.Before(due) {
			due = at
		}
		if d := due.Sub(clk.Now()); d > 0 {
			timer.Reset(d)
		} else {
			continue
		}
		select {
		case <-b.ctx.Done():
			for _, h := range b.held {
				h.cancel()
			}
			return b.ctx.Err()
		case <-wake:
		case p := <-packets:
			m, err := parseMessage(p.data)
			if err != nil {
				continue // the network's junk is not ours to report
			}
			evs, asks := b.t.handle(m, p.from.Addr(), b.c.zone(p.ifIndex), clk.Now())
			b.emit(evs)
			if len(asks) > 0 {
				b.send(&message{Questions: asks}, p.ifIndex)
			}
		case r := <-b.results:
			b.fetched(r)
		}
	}
}

// send multicasts a query on the interface idx (all when 0 or unknown).
func (b *browser) send(m *message, idx int) {
	if len(m.Questions) == 0 {
		return
	}
	pkt, err := appendMessage(nil, m)
	if err != nil || len(pkt) > maxMessage {
		// Too many known answers for one packet: ask without them.
		m = &message{Questions: m.Questions}
		if pkt, err = appendMessage(nil, m); err != nil {
			return
		}
	}
	_ = b.c.sendOn(pkt, idx)
}

// emit passes events to fn, holding those of OSCQuery servers until their
// HOST_INFO is known.
func (b *browser) emit(evs []Event) {
	for _, ev := range evs {
		if ev.Service.Type != OSCJSON {
			b.fn(ev)
			continue
		}
		key := ev.Service.Key()
		h := b.held[key]
		switch ev.Kind {
		case Gone:
			delete(b.infos, key)
			if h != nil {
				h.cancel()
				delete(b.held, key)
				if h.ev.Kind == Found {
					continue // never reported: nothing to take back
				}
			}
			b.fn(ev)
		default:
			from := hostInfoAddr(&ev.Service)
			if h != nil {
				// Still held: reported once, as Found or Updated as when held.
				h.ev.Service = ev.Service
				if from != h.to {
					b.fetch(key, &ev.Service, h)
				}
				continue
			}
			if f := b.infos[key]; f != nil && f.from.String() == from {
				ev.Service.HostInfo = f.info // the server is where it was
				b.fn(ev)
				continue
			}
			h = &held{ev: ev}
			b.held[key] = h
			b.fetch(key, &ev.Service, h)
		}
	}
}

// hostInfoAddr is where a service's HOST_INFO is asked for, as text ("" when
// it has no reachable address).
func hostInfoAddr(s *Service) string {
	a, ok := s.Best()
	if !ok {
		return ""
	}
	return netip.AddrPortFrom(a, uint16(s.Port)).String()
}

// fetch starts fetching a held service's HOST_INFO, replacing a fetch
// already under way.
func (b *browser) fetch(key string, s *Service, h *held) {
	if h.cancel != nil {
		h.cancel()
	}
	b.gen++
	h.gen = b.gen
	h.to = hostInfoAddr(s)
	a, ok := s.Best()
	if !ok {
		h.cancel = func() {}
		b.fetched(fetchResult{key: key, gen: h.gen, info: &HostInfo{Err: "no address reachable from here"}})
		return
	}
	to := netip.AddrPortFrom(a, uint16(s.Port))
	ctx, cancel := context.WithCancel(b.ctx)
	t := b.m.Clock.AfterFunc(HostInfoTimeout, cancel)
	h.cancel = func() { t.Stop(); cancel() }
	go func(gen int) {
		var (
			info *HostInfo
			err  error
		)
		select {
		case b.fetching <- struct{}{}:
			info, err = FetchHostInfo(ctx, to)
			<-b.fetching
		case <-ctx.Done(): // its time ran out waiting for a turn
		}
		if info == nil {
			why := "stopped"
			if err != nil {
				why = err.Error()
			}
			if ctx.Err() != nil && b.ctx.Err() == nil {
				why = "no answer within " + HostInfoTimeout.String()
			}
			info = &HostInfo{Err: strings.TrimSpace(why)}
		}
		select {
		case b.results <- fetchResult{key: key, gen: gen, from: to, info: info}:
		case <-b.ctx.Done():
		}
	}(h.gen)
}

// fetched reports a held service with the HOST_INFO fetched for it.
func (b *browser) fetched(r fetchResult) {
	h := b.held[r.key]
	if h == nil || h.gen != r.gen {
		return // gone, or asked again since
	}
	h.cancel()
	delete(b.held, r.key)
	b.infos[r.key] = &fetched{from: r.from, info: r.info}
	ev := h.ev
	ev.Time = b.m.Clock.Now()
	ev.Service.HostInfo = r.info
	b.fn(ev)
}
