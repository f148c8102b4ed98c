values {
  l = [1, 2]
  t = "%{ for v in hv.l }
${v}%{ endfor }"
}
