package oscquery

import (
	"fmt"
	"strings"
)

// ParseTree reads a whole tree to serve, as a file holds it: the
// proposal's JSON for the root, or for a subtree (one saved from a node
// below the root), which is then placed at its FULL_PATH under empty
// containers. Every node must be where its FULL_PATH says (a '/' at the
// end of a container's is dropped), and every name in CONTENTS must be an
// address part, or queries, values and LISTEN would name two addresses
// for one node, or none.
func ParseTree(data []byte, lim Limits) (*Node, error) {
	n, err := ParseNode(data, "/", lim)
	if err != nil {
		return nil, err
	}
	at := "/"
	if fp := n.FullPath; fp != "/" {
		parts := splitAddress(fp)
		if fp == "" || fp[0] != '/' || strings.Contains(strings.TrimSuffix(fp, "/"), "//") || len(parts) == 0 {
			return nil, fmt.Errorf("FULL_PATH %q is not an OSC address", fp)
		}
		// Read again from there: a node below without a FULL_PATH of
		// its own is where its place in CONTENTS puts it.
		at = "/" + strings.Join(parts, "/")
		if n, err = ParseNode(data, at, lim); err != nil {
			return nil, err
		}
	}
	if err := placed(n, at); err != nil {
		return nil, err
	}
	if at == "/" {
		return n, nil
	}
	root := &Node{FullPath: "/", Access: AccessNone, Contents: map[string]*Node{}}
	cur := root
	parts := splitAddress(at)
	for i, p := range parts {
		if i == len(parts)-1 {
			cur.Contents[p] = n
			break
		}
		next := &Node{FullPath: joinPath(cur.FullPath, p), Access: AccessNone, Contents: map[string]*Node{}}
		cur.Contents[p] = next
		cur = next
	}
	return root, nil
}

// placed checks that n, at the address at, and every node below it are
// where their FULL_PATH says, and that every name in CONTENTS is an
// address part; a FULL_PATH ending in '/' loses it.
func placed(n *Node, at string) error {
	if fp := n.FullPath; fp != at && (at == "/" || fp != at+"/") {
		return fmt.Errorf("the node at %s has FULL_PATH %q", at, fp)
	}
	n.FullPath = at
	for _, name := range n.Names() {
		switch {
		case name == "":
			return fmt.Errorf("CONTENTS of %s holds \"\": an empty name", at)
		case strings.Contains(name, "/"):
			return fmt.Errorf("CONTENTS of %s holds %q: a name holds no '/' (nest a node in another)", at, name)
		}
		if err := placed(n.Contents[name], joinPath(at, name)); err != nil {
			return err
		}
	}
	return nil
}
