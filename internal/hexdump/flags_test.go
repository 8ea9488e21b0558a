package hexdump_test

import "flag"

var update = flag.Bool("update", false, "write missing .hex goldens for oscli's own vectors")
