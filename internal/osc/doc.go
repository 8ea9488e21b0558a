// Package osc encodes and decodes Open Sound Control packets (OSC 1.0 and 1.1).
//
// Encoding is append-style: AppendMessage, AppendBundle and AppendPacket
// write into a caller-owned buffer and do not allocate when it has room.
// Decoding is strict and in place: DecodeMessage and DecodeBundle (or a
// Decoder for either) fill a caller-owned value, reusing its slices, and
// check every length, offset, padding byte and type tag. Decoded values
// alias the input buffer; Clone makes an independent copy.
//
// The package also renders arguments and messages in oscli's typed text
// syntax (see Arg.AppendText); it does not parse that syntax (package
// argparse does), send packets, or match address patterns (package match).
package osc
