#include <stdio.h>
int main(void) { puts("vsmmuctl: under construction"); return 0; }
