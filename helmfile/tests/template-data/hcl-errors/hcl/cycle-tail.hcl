values {
  a = hv.b
  b = hv.c
  c = hv.d
  d = hv.b
  e = hv.a
}
