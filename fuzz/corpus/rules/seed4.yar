rule r { condition: (1 + 2) * 3 \ 4 % 5 & 6 | 7 ^ ~8 << 1 >> 1 == -1 and "a" < "b" }
