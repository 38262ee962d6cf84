int __stdcall ws_accept(void) __asm__("accept");
int __stdcall ws_bind(void) __asm__("bind");
int __stdcall ws_start(void) __asm__("WSAStartup");
int __stdcall oa_alloc(void) __asm__("SysAllocString");
int __stdcall oa_free(void) __asm__("SysFreeString");
int __stdcall mb(void *, const char *, const char *, unsigned) __asm__("MessageBoxA");
void *__stdcall getdc(void *) __asm__("GetDC");
unsigned long __stdcall GetTickCount(void);
int main(int argc, char **argv) {
  (void)argv;
  if (argc > 5) { ws_accept(); ws_bind(); ws_start(); oa_alloc(); oa_free(); mb(0, "x", "y", 0); getdc(0); }
  return GetTickCount() == 3;
}
