rule r { strings: $a = "abc" nocase wide $b = { 41 ?? [2-4] ( 42 | 43 44 ) } $c = /a[bc]+d?/is condition: $a and #b > 1 or @c[1] < 10 }
