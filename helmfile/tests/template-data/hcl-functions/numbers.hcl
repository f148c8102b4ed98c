# cty numbers: 512-bit arithmetic, then float64 through JSON; an HCL null overrides YAML.
values {
  gone  = null
  keep  = { b = 2 }
  list  = []
  f1    = 0.1 + 0.2
  f2    = 0.0000001
  f3    = 1e21
  f4    = 9007199254740993
  f5    = 123456789012
  f6    = 0.3 / 0.1
  f7    = 1.1 * 3
  f8    = 10 - 0.9
  s1    = "${1 / 3}"
  s2    = "${0.1 + 0.2}"
  s3    = "${1e21}"
  s4    = "${2.50}"
  empty = ""
  zero  = 0
  no    = false
}
