rule r { strings: $x = "x" $ = "y" condition: for any i in (1..#x) : (for all of ($*) : (@[i] > 0 and ! [1] == 1)) and 2 of them and none of ($x*) and not defined uint8(-1) }
