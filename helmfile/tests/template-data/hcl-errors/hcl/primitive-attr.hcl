values {
  a = hv.ok.length
}
