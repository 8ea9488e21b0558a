package zeroconf

import (
	"net/netip"
	"slices"
	"sort"
	"time"
)

// maxEntries bounds each of the tracker's caches (service pointers, SRV,
// TXT, hosts): a network that announces more, or a flood of made-up
// records, is cut off there and told about once.
const maxEntries = 1024

// maxAddrs bounds the addresses kept for one host.
const maxAddrs = 16

// timing is when a record came and how long it lives. A record is
// refreshed by a query at 80, 85, 90 and 95 % of its time to live and
// expires at 100 % (RFC 6762 §5.2).
type timing struct {
	received  time.Time
	ttl       uint32
	refreshed int // refresh queries sent since it came
}

func (t *timing) expires() time.Time { return t.received.Add(time.Duration(t.ttl) * time.Second) }

func (t *timing) nextRefresh() (time.Time, bool) {
	if t.refreshed >= 4 {
		return time.Time{}, false
	}
	pct := time.Duration(80 + 5*t.refreshed)
	return t.received.Add(time.Duration(t.ttl) * time.Second * pct / 100), true
}

func (t *timing) renew(now time.Time, ttl uint32) { *t = timing{received: now, ttl: ttl} }

type ptrEntry struct {
	timing
	target name // the instance's full name
}

type srvEntry struct {
	timing
	host name
	port uint16
	from netip.Addr
}

type txtEntry struct {
	timing
	txt []string
}

type addrEntry struct {
	timing
	addr  netip.Addr
	iface string // the interface it came on ("" when unknown)
}

// tracker is browsing's state, without sockets or timers: it takes
// messages and the time, and returns what changed and what to ask. Every
// name is compared without case.
type tracker struct {
	types   map[string]string               // type name key → "_osc._udp"
	typeOf  map[string]name                 // type name key → its name
	ptr     map[string]map[string]*ptrEntry // type key → instance key → pointer
	srv     map[string]*srvEntry            // instance key
	txt     map[string]*txtEntry            // instance key
	addrs   map[string][]*addrEntry         // host key
	shown   map[string]*Service             // instance key → as last reported
	asked   map[string]time.Time            // question key → when last asked
	isLocal func(netip.Addr) bool
	// full is called once when a cache is full and a record is dropped.
	full func()
}

func newTracker(types []string, isLocal func(netip.Addr) bool) *tracker {
	t := &tracker{
		types: map[string]string{}, typeOf: map[string]name{}, ptr: map[string]map[string]*ptrEntry{},
		srv: map[string]*srvEntry{}, txt: map[string]*txtEntry{}, addrs: map[string][]*addrEntry{},
		shown: map[string]*Service{}, asked: map[string]time.Time{}, isLocal: isLocal,
	}
	for _, typ := range types {
		n := append(splitDots(typ), domain)
		t.types[n.key()] = typ
		t.typeOf[n.key()] = n
		t.ptr[n.key()] = map[string]*ptrEntry{}
	}
	return t
}

// queries are the questions browsing starts with and repeats: a PTR
// question for each type, with the known answers whose time to live is
// more than half left (RFC 6762 §7.1), so that responders stay quiet
// about what is known.
func (t *tracker) queries(now time.Time) *message {
	m := &message{}
	keys := sortedKeys(t.types)
	for _, k := range keys {
		m.Questions = append(m.Questions, question{Name: t.typeOf[k], Type: typePTR, Class: classIN})
		for _, ik := range sortedKeys(t.ptr[k]) {
			p := t.ptr[k][ik]
			left := p.expires().Sub(now)
			if left > time.Duration(p.ttl)*time.Second/2 {
				m.Answers = append(m.Answers, record{Name: t.typeOf[k], Type: typePTR, Class: classIN, TTL: uint32(left / time.Second), Target: p.target})
			}
		}
	}
	return m
}

// handle takes a received message: its records update the caches, and
// the services that became complete, changed or went away are returned
// as events, with the questions that would complete the others. Queries
// and their known answers are ignored: only responses tell what exists.
func (t *tracker) handle(m *message, from netip.Addr, zone string, now time.Time) ([]Event, []question) {
	if !m.isResponse() {
		return nil, nil
	}
	rs := append(slices.Clone(m.Answers), m.Additionals...)
	goodbye := map[string]bool{}
	// Pointers first, so that the records they point to, later in the
	// same packet or earlier, belong to a tracked service.
	for i := range rs {
		r := &rs[i]
		if r.Type != typePTR {
			continue
		}
		tk := r.Name.key()
		inst, ok := t.ptr[tk]
		if !ok || len(r.Target) != len(t.typeOf[tk])+1 || r.Target[1:].key() != tk {
			continue // not a type browsed, or not an instance of it
		}
		ik := r.Target.key()
		switch p, have := inst[ik]; {
		case r.TTL == 0:
			if have {
				delete(inst, ik)
				goodbye[ik] = true
			}
		case have:
			p.renew(now, r.TTL)
			p.target = r.Target // the latest spelling of the name
		case len(inst) >= maxEntries:
			t.dropped()
		default:
			inst[ik] = &ptrEntry{timing: timing{received: now, ttl: r.TTL}, target: r.Target}
		}
	}
	for i := range rs {
		r := &rs[i]
		k := r.Name.key()
		switch r.Type {
		case typeSRV:
			switch s, have := t.srv[k]; {
			case r.TTL == 0:
				if have {
					delete(t.srv, k)
					goodbye[k] = true
				}
			case have:
				s.renew(now, r.TTL)
				s.host, s.port, s.from = r.Target, r.Port, from
			case len(t.srv) >= maxEntries:
				t.dropped()
			default:
				t.srv[k] = &srvEntry{timing: timing{received: now, ttl: r.TTL}, host: r.Target, port: r.Port, from: from}
			}
		case typeTXT:
			switch x, have := t.txt[k]; {
			case r.TTL == 0:
				delete(t.txt, k)
			case have:
				x.renew(now, r.TTL)
				x.txt = r.TXT
			case len(t.txt) >= maxEntries:
				t.dropped()
			default:
				t.txt[k] = &txtEntry{timing: timing{received: now, ttl: r.TTL}, txt: r.TXT}
			}
		case typeA, typeAAAA:
			t.address(k, r, zone, now)
		}
	}
	return t.evaluate(now, goodbye), t.missing(now)
}

// address updates a host's addresses with an A or AAAA record. A record
// with the cache-flush bit replaces the host's addresses of its type that
// came on the same interface more than a second ago (RFC 6762 §10.2): a
// host on two networks answers on each with that network's address, and
// neither answer takes back the other.
func (t *tracker) address(hk string, r *record, zone string, now time.Time) {
	a := r.Addr
	if a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()) && zone != "" {
		a = a.WithZone(zone)
	}
	list, have := t.addrs[hk]
	if !have && len(t.addrs) >= maxEntries {
		t.dropped()
		return
	}
	if r.Class&classFlush != 0 {
		list = slices.DeleteFunc(list, func(e *addrEntry) bool {
			return e.addr.Is4() == a.Is4() && e.addr != a && e.iface == zone && now.Sub(e.received) > time.Second
		})
	}
	i := slices.IndexFunc(list, func(e *addrEntry) bool { return e.addr == a })
	switch {
	case r.TTL == 0:
		if i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
	case i >= 0:
		list[i].renew(now, r.TTL)
	case len(list) >= maxAddrs:
		// A host with more addresses than anyone can use: keep the first.
	default:
		list = append(list, &addrEntry{timing: timing{received: now, ttl: r.TTL}, addr: a, iface: zone})
	}
	if len(list) == 0 {
		delete(t.addrs, hk)
	} else {
		t.addrs[hk] = list
	}
}

func (t *tracker) dropped() {
	if t.full != nil {
		t.full()
		t.full = nil
	}
}

// view is a tracked service as its records now describe it, or nil while
// it lacks its SRV record or an address.
func (t *tracker) view(tk, ik string) *Service {
	p := t.ptr[tk][ik]
	s := t.srv[ik]
	if p == nil || s == nil {
		return nil
	}
	addrs := t.addrs[s.host.key()]
	if len(addrs) == 0 {
		return nil
	}
	svc := &Service{
		Instance:  p.target[0],
		Type:      t.types[tk],
		Host:      s.host.String(),
		Port:      int(s.port),
		From:      s.from,
		FromLocal: isLocalSource(s.from, t.isLocal),
	}
	for _, a := range addrs {
		svc.Addrs = append(svc.Addrs, a.addr)
	}
	if x := t.txt[ik]; x != nil {
		svc.TXT = x.txt
	}
	return svc
}

// evaluate compares every service with how it was last reported.
func (t *tracker) evaluate(now time.Time, goodbye map[string]bool) []Event {
	var evs []Event
	seen := map[string]bool{}
	for _, tk := range sortedKeys(t.ptr) {
		for _, ik := range sortedKeys(t.ptr[tk]) {
			seen[ik] = true
			v := t.view(tk, ik)
			old := t.shown[ik]
			switch {
			case v == nil && old != nil:
				reason := "expired"
				if goodbye[ik] {
					reason = "goodbye"
				}
				evs = append(evs, Event{Kind: Gone, Time: now, Service: *old, Reason: reason})
				delete(t.shown, ik)
			case v != nil && old == nil:
				evs = append(evs, Event{Kind: Found, Time: now, Service: *v})
				t.shown[ik] = v
			case v != nil && !sameService(v, old):
				evs = append(evs, Event{Kind: Updated, Time: now, Service: *v})
				t.shown[ik] = v
			}
		}
	}
	// Services whose pointer went away.
	for _, ik := range sortedKeys(t.shown) {
		if seen[ik] {
			continue
		}
		reason := "expired"
		if goodbye[ik] {
			reason = "goodbye"
		}
		evs = append(evs, Event{Kind: Gone, Time: now, Service: *t.shown[ik], Reason: reason})
		delete(t.shown, ik)
	}
	return evs
}

func sameService(a, b *Service) bool {
	return a.Instance == b.Instance && a.Host == b.Host && a.Port == b.Port &&
		slices.Equal(a.Addrs, b.Addrs) && slices.Equal(a.TXT, b.TXT) && a.FromLocal == b.FromLocal
}

// missing returns questions for what the services seen lack: the SRV and
// TXT records of an instance known by its pointer, the address of a host
// an SRV record names. Each is asked at most once a second.
func (t *tracker) missing(now time.Time) []question {
	var qs []question
	ask := func(n name, typ uint16) {
		k := n.key() + string(rune(typ))
		if last, ok := t.asked[k]; ok && now.Sub(last) < time.Second {
			return
		}
		t.asked[k] = now
		qs = append(qs, question{Name: n, Type: typ, Class: classIN})
	}
	for _, tk := range sortedKeys(t.ptr) {
		for _, ik := range sortedKeys(t.ptr[tk]) {
			p := t.ptr[tk][ik]
			s := t.srv[ik]
			switch {
			case s == nil:
				ask(p.target, typeSRV)
				if t.txt[ik] == nil {
					ask(p.target, typeTXT)
				}
			case len(t.addrs[s.host.key()]) == 0:
				ask(s.host, typeA)
			}
		}
	}
	if len(t.asked) > 4*maxEntries {
		clear(t.asked) // forget old questions rather than grow
	}
	return qs
}

// expire drops the records whose time to live has run out and returns
// what that changed.
func (t *tracker) expire(now time.Time) []Event {
	dead := func(x *timing) bool { return !now.Before(x.expires()) }
	for _, inst := range t.ptr {
		for k, p := range inst {
			if dead(&p.timing) {
				delete(inst, k)
			}
		}
	}
	for k, s := range t.srv {
		if dead(&s.timing) {
			delete(t.srv, k)
		}
	}
	for k, x := range t.txt {
		if dead(&x.timing) {
			delete(t.txt, k)
		}
	}
	for k, list := range t.addrs {
		list = slices.DeleteFunc(list, func(e *addrEntry) bool { return dead(&e.timing) })
		if len(list) == 0 {
			delete(t.addrs, k)
		} else {
			t.addrs[k] = list
		}
	}
	return t.evaluate(now, nil)
}

// refresh returns the questions that keep the records of the services
// being shown alive: each record is asked for at 80, 85, 90 and 95 % of
// its time to live.
func (t *tracker) refresh(now time.Time) []question {
	var qs []question
	due := func(x *timing, n name, typ uint16) {
		if at, ok := x.nextRefresh(); ok && !now.Before(at) {
			x.refreshed++
			qs = append(qs, question{Name: n, Type: typ, Class: classIN})
		}
	}
	for _, tk := range sortedKeys(t.ptr) {
		for _, ik := range sortedKeys(t.ptr[tk]) {
			if t.shown[ik] == nil {
				continue
			}
			p := t.ptr[tk][ik]
			due(&p.timing, t.typeOf[tk], typePTR)
			if s := t.srv[ik]; s != nil {
				due(&s.timing, p.target, typeSRV)
				for _, a := range t.addrs[s.host.key()] {
					typ := typeA
					if !a.addr.Is4() {
						typ = typeAAAA
					}
					due(&a.timing, s.host, typ)
				}
			}
			if x := t.txt[ik]; x != nil {
				due(&x.timing, p.target, typeTXT)
			}
		}
	}
	return dedupe(qs)
}

// next is the earliest time a record expires or one of a shown
// service's records is due for a refresh (zero when nothing is cached).
func (t *tracker) next() time.Time {
	var at time.Time
	consider := func(e time.Time) {
		if at.IsZero() || e.Before(at) {
			at = e
		}
	}
	refresh := func(x *timing) {
		if r, ok := x.nextRefresh(); ok {
			consider(r)
		}
	}
	for _, inst := range t.ptr {
		for ik, p := range inst {
			consider(p.expires())
			if t.shown[ik] == nil {
				continue
			}
			refresh(&p.timing)
			if s := t.srv[ik]; s != nil {
				refresh(&s.timing)
				for _, a := range t.addrs[s.host.key()] {
					refresh(&a.timing)
				}
			}
			if x := t.txt[ik]; x != nil {
				refresh(&x.timing)
			}
		}
	}
	for _, s := range t.srv {
		consider(s.expires())
	}
	for _, x := range t.txt {
		consider(x.expires())
	}
	for _, list := range t.addrs {
		for _, a := range list {
			consider(a.expires())
		}
	}
	return at
}

func dedupe(qs []question) []question {
	seen := map[string]bool{}
	out := qs[:0]
	for _, q := range qs {
		k := q.Name.key() + string(rune(q.Type))
		if !seen[k] {
			seen[k] = true
			out = append(out, q)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isLocalSource reports whether a packet's source is this machine: a
// loopback address, one of its own, or the unspecified address that Linux
// gives multicast sent over lo without a source route.
func isLocalSource(a netip.Addr, isLocal func(netip.Addr) bool) bool {
	return a.IsLoopback() || a.IsUnspecified() || isLocal != nil && isLocal(a)
}
