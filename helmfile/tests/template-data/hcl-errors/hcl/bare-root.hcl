values {
  a = hv
}
