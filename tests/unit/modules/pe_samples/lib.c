#include <winsock2.h>
#include <windows.h>
__declspec(dllexport) int ward_add(int a, int b) { return a + b; }
__declspec(dllexport) int ward_sub(int a, int b) { return a - b; }
int hidden_by_ordinal(void) { return 7; }
int WINAPI DllMain(HINSTANCE h, DWORD r, LPVOID p) { (void)h; (void)r; (void)p; return 1; }
