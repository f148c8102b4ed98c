values {
  a = hv["ok"]
}
