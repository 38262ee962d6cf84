#!/usr/bin/zsh -f
# Prints the completions zsh offers for command lines:
#   zsh -f complete.zsh FPATH_DIR 'ward sc' 'ward scan --max-' ...
# (env WARD_ZCOMPDUMP=FILE: see compinit below)
# prints, for each line N (from 1), "HIT N WORD" for each word offered.
# It runs one interactive zsh in a pseudo-terminal (zsh/zpty) with the
# completion system loaded and FPATH_DIR first in fpath, types each line
# and a TAB there, and has compadd print what the completion functions add.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PROMPT='' RPROMPT='' PS2=''"
zpty -w z "fpath=(${(q)1} \$fpath)"
# $WARD_ZCOMPDUMP: compinit's dump file, kept between runs (reading every
# function of fpath again takes seconds); without it, no dump.
if [[ -n $WARD_ZCOMPDUMP ]]; then
  zpty -w z "autoload -Uz compinit && compinit -u -d ${(q)WARD_ZCOMPDUMP}"
else
  zpty -w z 'autoload -Uz compinit && compinit -u -D'
fi
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return $?
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local __h
  for __h in $__hits; do print -r -- "HIT:$__h"; done
  builtin compadd "$@"
}'
zpty -w z '__complete () { _main_complete; print -r -- "DONE" }'
zpty -w z 'zle -C __complete complete-word __complete'
zpty -w z "zstyle ':completion:*' completer _complete"
zpty -w z "zstyle ':completion:*' menu no"
zpty -w z "zstyle ':completion:*' list-prompt ''"
zpty -w z "LISTMAX=100000"
zpty -w z "bindkey -e; bindkey '^I' __complete"
zpty -w z 'print -r -- "RE""ADY"'
local line
integer n=0
while zpty -r z line; do
  [[ $line == READY* ]] && break
done
shift
for cmd in "$@"; do
  (( n++ ))
  # ^U: the previous line is gone before this one is typed.
  zpty -w -n z $'\C-u'"$cmd"$'\t'
  while zpty -r z line; do
    line=${line//[$'\r\n']/}
    [[ $line == *DONE* ]] && break
    [[ $line == *HIT:* ]] && print -r -- "HIT $n ${line##*HIT:}"
  done
done
zpty -d z
