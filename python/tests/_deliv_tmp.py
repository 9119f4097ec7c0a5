import sys, time, threading, resource
import harness, AMPS
env = harness.Env()
try:
    c = AMPS.Client("d"); c.connect(env.uri())
    n = int(sys.argv[1])
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for i in range(n): c.publish("deliver", "y"*128)
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    c.publish_flush(600000)
    print("publish loop: %.2f us/msg wall, cpu %.2f us/msg" % ((t1-t0)/n*1e6, ((r1.ru_utime+r1.ru_stime)-(r0.ru_utime+r0.ru_stime))/n*1e6), flush=True)
    cnt=[0]; done=threading.Event(); errs=[]
    c.set_exception_listener(lambda e: errs.append(repr(e)))
    def h(m):
        cnt[0]+=1
        if cnt[0]==n: done.set()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0=time.time()
    c.subscribe(h, "deliver", bookmark="0")
    done.wait(60)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    print("delivered", cnt[0], "rate", cnt[0]/(time.time()-t0), "cpu us/msg %.2f" % (((r1.ru_utime+r1.ru_stime)-(r0.ru_utime+r0.ru_stime))/max(cnt[0],1)*1e6), errs)
finally:
    env.stop()
