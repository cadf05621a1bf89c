# Light hosts for scale benchmarks: netns + veth + one sshd from the machine's own filesystem.
# shellcheck shell=bash
light_up() { die "up-light: not implemented yet"; }
light_down() { :; }
light_status() { :; }
