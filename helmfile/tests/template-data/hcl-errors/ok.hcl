values {
  ok = "fine"
}
