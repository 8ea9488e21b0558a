// Package transport moves OSC packets over sockets, with one way in and one
// way out for every protocol:
//
//   - Listen opens a Listener on UDP (unicast, broadcast and multicast, IPv4
//     and IPv6, many datagrams per system call where the system allows, and
//     the kernel's drop count on Linux), TCP (SLIP or int32 size-prefix
//     framing, detected per connection, with frame size and connection
//     limits, a deadline for each frame, the longest-idle connection
//     making room for a new one at the limit, and a cap on the memory all
//     connections' unfinished frames take), a Unix datagram socket, or
//     WebSocket (ws://: one packet per binary message, as osc.js sends
//     them; text messages counted and told, never decoded; TCP's limits,
//     a message for a frame). Each received packet reaches the handler
//     as a Packet: its payload, a truncation flag, and a Source that names
//     the sender and can Reply on the socket or connection it came in on,
//     in that connection's framing.
//   - Dial opens a Client (UDP, TCP, Unix, ws:// or wss://): one socket or
//     connection to one endpoint that sends packets singly or in batches
//     and receives what comes back on it (replies).
//   - ParseEndpoint reads where to listen or send from the words users type:
//     ports, host:port, and URLs in oscli's and liblo's spellings, ws://
//     and wss:// included. A multicast group to listen on is joined; ::
//     takes IPv4 too unless IPv6Only.
//   - Reachable says where other machines reach a listener on a wildcard
//     address, from the interfaces it is given (Interfaces lists the
//     machine's).
//
// It moves bytes: it does not decode, filter or print packets, does not
// resolve @names, flags or the config file (package cmd does), and does not
// pace or schedule sending (packages sender, replay and bench do).
package transport
