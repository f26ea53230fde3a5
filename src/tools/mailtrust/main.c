#include <mailtrust/mailtrust.h>
#include <stdio.h>
int main(void)
{
	printf("mailtrust %s\n", mt_version());
	return 0;
}
