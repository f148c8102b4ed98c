values {
  a = hv.a
}
