rule a : t { meta: x = "y" n = -1 condition: filesize > 1KB and uint32(0) == 0x464c457f }
private global rule b { condition: a or ei == 5 and es contains "b" and es matches /b+/ }
