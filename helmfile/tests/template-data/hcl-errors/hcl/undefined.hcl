values {
  a = "${hv.ok}-${hv.nope}"
}
