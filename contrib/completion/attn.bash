# bash completion for attn. The words come from attn itself at run time
# (`attn __complete WORDS...`: commands, subcommands, and the flags its own
# --help lists), so commands added later complete with no change here.
_attn() {
    local cur=${COMP_WORDS[COMP_CWORD]} IFS=$'\n'
    COMPREPLY=($(compgen -W "$(attn __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
    if [ ${#COMPREPLY[@]} -eq 0 ]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _attn attn
