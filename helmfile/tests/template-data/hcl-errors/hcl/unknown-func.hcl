values {
  a = nofunc(hv.ok)
}
