/* placeholder */ typedef int sg_placeholder_t;
